import Foundation

/// A ZIP64 archive written by CPython 3's `zipfile` (838 bytes), by
/// `scripts/fixtures/modelstore_zip64_fixture.py`: ZIP64 extra fields in every local and
/// central header, a ZIP64 end record and locator. Members: `pkg/readme.txt` (deflated),
/// `pkg/data/part01.bin` (deflated, bytes (i*7+3)&255 for i in 0..<300), `pkg/stored.bin` (stored).
enum PythonZipFixture {
    static let archive = Data(base64Encoded: base64.joined())!

    private static let base64 = [
        "UEsDBC0AAAAIAAAAIVplPglT//////////8OABQAcGtnL3JlYWRtZS50eHQBABAATgAAAAAAAAAfAAAAAAAAAMtIzcnJV0grys9V",
        "KKgsycjPU6jKLEjLzEnlyiBDBgBQSwMELQAAAAgAAAAhWs5XDt7//////////xMAFABwa2cvZGF0YS9wYXJ0MDEuYmluAQAQACwB",
        "AAAAAAAAEwEAAAAAAABj5hKUkFfTNbF28gwIj0vNKa5q7OifNnfJ6k07Dxw/d/XO41cff/xn4xWRVtI0MLdz9QmOSszIL6tt6Z40",
        "c8HydVv3HD518cb9Z2+//GbiFBCXU9UxtnL08A+LTckuqmxo75s6Z/GqjTv2Hzt75fajlx++/2PlEZZS1NA3s3XxDopMSM8rrWnu",
        "mjhj/rK1W3YfOnnh+r2nbz7/YuTgF5NV0TaydHD3C41JziqsqG/rnTJ70coN2/cdPXP51sMX77/9ZeEWklRQ1zO1cfYKjIhPyy2p",
        "buqcMH3e0jWbdx08cf7a3SevP/1kYOcTlVHWMrSwd/MNiU7KLCiva+2ZPGvhivXb9h45fenmg+fvvv5hJsH/AFBLAwQUAAAAAAAA",
        "ACFaeHemDwwAAAAMAAAADgAAAHBrZy9zdG9yZWQuYmluc3RvcmVkIGJ5dGVzUEsBAi0DLQAAAAgAAAAhWmU+CVP//////////w4A",
        "FAAAAAAAAAAAAIABAAAAAHBrZy9yZWFkbWUudHh0AQAQAE4AAAAAAAAAHwAAAAAAAABQSwECLQMtAAAACAAAACFazlcO3v//////",
        "////EwAcAAAAAAAAAAAAgAH/////cGtnL2RhdGEvcGFydDAxLmJpbgEAGAAsAQAAAAAAABMBAAAAAAAAXwAAAAAAAABQSwECLQMt",
        "AAAAAAAAACFaeHemDwwAAAAMAAAADgAMAAAAAAAAAAAAgAH/////cGtnL3N0b3JlZC5iaW4BAAgAtwEAAAAAAABQSwYGLAAAAAAA",
        "AAAtAC0AAAAAAAAAAAADAAAAAAAAAAMAAAAAAAAA9QAAAAAAAADvAQAAAAAAAFBLBgcAAAAA5AIAAAAAAAABAAAAUEsFBgAAAAAD",
        "AAMA9QAAAO8BAAAAAA==",
    ]
}
