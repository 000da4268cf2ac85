#![allow(non_upper_case_globals)]
#![allow(non_camel_case_types)]
#![allow(non_snake_case)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// callscope addition: [`whisper_share_threads`] as a safe function. It takes
/// and returns plain integers and only adds to a counter of a group that
/// whisper.cpp keeps under a lock (whisper.h says what the groups do), so no
/// call can be unsound.
pub fn share_threads(group: i32, n: i32) -> i32 {
    // SAFETY: no pointers; the C function updates a map under a mutex.
    unsafe { whisper_share_threads(group, n) }
}

/// callscope addition: [`whisper_share_group`] as a safe function: it sets a
/// thread-local integer (the calling thread's group for its next
/// `whisper_full` calls).
pub fn share_group(group: i32) {
    // SAFETY: no pointers; the C function writes a thread-local int.
    unsafe { whisper_share_group(group) }
}
