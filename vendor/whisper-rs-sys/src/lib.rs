#![allow(non_upper_case_globals)]
#![allow(non_camel_case_types)]
#![allow(non_snake_case)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// callscope addition: [`whisper_share_threads`] as a safe function. It takes
/// and returns a plain integer and only adds to a process-wide atomic counter
/// (whisper.h says what the counter does), so no call can be unsound.
pub fn share_threads(n: i32) -> i32 {
    // SAFETY: no pointers; the C function adds `n` to an atomic and returns it.
    unsafe { whisper_share_threads(n) }
}
