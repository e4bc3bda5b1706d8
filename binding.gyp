{
  # tais native addon: hashing (and hash strands: in-order streaming hashes on native threads) (XXH64, CRC-32C, CRC-32, CRC-64/NVME written here; MD5/SHA-1/SHA-2 from the OpenSSL
  # statically linked into and exported by the node binary) and file I/O helpers.
  # Built with `npm run build:native`; the .npmrc sets nodedir=/usr so node-gyp uses
  # /usr/include/node (node, uv and openssl headers of the Node that loads the addon).
  "targets": [
    {
      "target_name": "tais",
      "sources": [
        "native/addon.cc",
        "native/crc32.cc",
        "native/crc32c.cc",
        "native/crc64nvme.cc",
        "native/crc_fold.cc",
        "native/fileio.cc",
        "native/hash_strand.cc",
        "native/hashers.cc",
        "native/napi_util.cc",
        "native/sendfile.cc",
        "native/xxh64.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "OPENSSL_SUPPRESS_DEPRECATED",
        "_FILE_OFFSET_BITS=64",
        "_GNU_SOURCE"
      ],
      "cflags!": [ "-fno-exceptions", "-O2", "-O0" ],
      "cflags_cc!": [ "-fno-exceptions", "-fno-rtti", "-O2", "-O0" ],
      "cflags": [ "-O3", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter" ],
      "cflags_cc": [ "-O3", "-fexceptions", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter" ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "OTHER_CFLAGS": [ "-O3" ]
      }
    }
  ]
}
