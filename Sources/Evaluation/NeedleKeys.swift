/// Keys and values of needles: "adjective-noun" keys (as RULER draws from wonderwords) and
/// 7-digit numbers.
public enum NeedleKeys {
    static let adjectives = [
        "abundant", "agreeable", "ancient", "bitter", "brave", "breezy", "bright", "calm", "careful", "cheerful",
        "clever", "crooked", "curious", "damp", "delicate", "eager", "elegant", "faint", "fancy", "fierce",
        "fragile", "gentle", "gigantic", "glossy", "grumpy", "hollow", "humble", "icy", "jolly", "lively",
        "lonely", "lucky", "massive", "mellow", "modern", "nimble", "noisy", "obedient", "polite", "proud",
        "quiet", "rapid", "rustic", "shiny", "silent", "sleepy", "sturdy", "tender", "vivid", "witty",
    ]
    static let nouns = [
        "anchor", "badger", "balloon", "basket", "beacon", "bicycle", "blanket", "canyon", "carpet", "castle",
        "cellar", "compass", "cottage", "crystal", "daisy", "dolphin", "falcon", "feather", "garden", "glacier",
        "harbor", "helmet", "island", "jacket", "kettle", "ladder", "lantern", "meadow", "mirror", "monkey",
        "needle", "orchard", "otter", "parrot", "pebble", "pencil", "pillow", "pumpkin", "quarry", "rabbit",
        "ribbon", "saddle", "spider", "teapot", "thunder", "tractor", "trumpet", "velvet", "walnut", "whistle",
    ]

    /// `count` distinct keys.
    public static func keys(_ count: Int, random: inout TaskRandom) -> [String] {
        random.distinctIntegers(count, below: adjectives.count * nouns.count).map { index in
            adjectives[index / nouns.count] + "-" + nouns[index % nouns.count]
        }
    }

    /// A number of exactly seven digits (no leading zero).
    public static func number(random: inout TaskRandom) -> String {
        String(random.integer(in: 1_000_000...9_999_999))
    }
}
