// build.rs for a copy of whisper-rs-sys 0.15 that links whisper.cpp as shared
// libraries instead of building it statically: `benches/gpu/prepare.sh` puts it
// in place of the crate's own build script. The Rust side (whisper-rs, callscope)
// is then linked against a CPU build of whisper.cpp here and runs, on the GPU
// machine (no Rust toolchain there), against a CUDA build of the same sources:
// same header, same ABI, another backend.
use std::env;
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    // The bindings the crate ships for this whisper.cpp version (the normal
    // build uses them too: WHISPER_DONT_GENERATE_BINDINGS in .cargo/config.toml).
    std::fs::copy("src/bindings.rs", out.join("bindings.rs")).expect("copy bindings.rs");
    println!("cargo:rerun-if-env-changed=CALLSCOPE_WHISPER_LIB_DIR");
    let dirs = env::var("CALLSCOPE_WHISPER_LIB_DIR")
        .expect("CALLSCOPE_WHISPER_LIB_DIR: the folders of libwhisper.so and libggml*.so, ':'-separated");
    for dir in dirs.split(':').filter(|d| !d.is_empty()) {
        println!("cargo:rustc-link-search=native={dir}");
    }
    for lib in ["whisper", "ggml", "ggml-base"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    println!("cargo:rerun-if-env-changed=CALLSCOPE_WHISPER_CPP_VERSION");
    let version = env::var("CALLSCOPE_WHISPER_CPP_VERSION").unwrap_or_else(|_| "unknown".into());
    println!("cargo:WHISPER_CPP_VERSION={version}");
}
