{
  # Shared code builds for the baseline ISA only. Each SIMD family lives in its
  # own static library with its own flags, so no AVX instruction can leak into
  # code that runs before the run-time CPU check.
  "target_defaults": {
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20"],
    "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
    "cflags": ["-O3", "-pthread"],
    "ldflags": ["-pthread"],
    "include_dirs": ["native"],
    "defines": ["NAPI_VERSION=8"]
  },
  "targets": [
    {
      "target_name": "claq_core",
      "type": "static_library",
      "sources": [
        "<!@(node tools/list-sources.cjs native/core .cc)",
        "<!@(node tools/list-sources.cjs native/kernels .cc)"
      ]
    },
    {
      "target_name": "claq_simd",
      "type": "static_library",
      "sources": [],
      "conditions": [
        ["target_arch=='x64'", {
          "dependencies": ["claq_avx2", "claq_avx512"]
        }],
        ["target_arch=='arm64'", {
          "dependencies": ["claq_neon"]
        }]
      ]
    },
    {
      "target_name": "claq",
      "sources": ["<!@(node tools/list-sources.cjs native/binding .cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # CPP_EXCEPTIONS_ALL: a std::exception that escapes a binding (std::bad_alloc,
      # std::system_error when a thread cannot start) becomes a JS Error, not std::terminate.
      "defines": ["NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "dependencies": ["claq_core", "claq_simd"]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "claq_avx2",
          "type": "static_library",
          "sources": ["<!@(node tools/list-sources.cjs native/kernels/x86 _avx2.cc)"],
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"]
        },
        {
          "target_name": "claq_avx512",
          "type": "static_library",
          "sources": ["<!@(node tools/list-sources.cjs native/kernels/x86 _avx512.cc)"],
          # GCC 12's own AVX-512 headers self-initialize locals (__Y = __Y), which
          # -W(maybe-)uninitialized reports hundreds of times in every build.
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512dq", "-mavx512vl", "-mfma", "-mf16c",
            "-Wno-maybe-uninitialized", "-Wno-uninitialized"]
        }
      ]
    }],
    ["target_arch=='arm64'", {
      "targets": [
        {
          "target_name": "claq_neon",
          "type": "static_library",
          "sources": ["<!@(node tools/list-sources.cjs native/kernels/arm _neon.cc)"]
        }
      ]
    }]
  ]
}
