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

/// callscope addition: a new cancellation token ([`whisper_cancel_new`]), a
/// positive id, not cancelled.
pub fn cancel_new() -> i32 {
    // SAFETY: no pointers; the C function adds to a map under a mutex.
    unsafe { whisper_cancel_new() }
}

/// callscope addition: cancels `token` ([`whisper_cancel_set`]): the
/// `whisper_full` calls watching it stop at their next graph. An unknown
/// token is ignored.
pub fn cancel_set(token: i32) {
    // SAFETY: no pointers; the C function sets a flag under a mutex.
    unsafe { whisper_cancel_set(token) }
}

/// callscope addition: forgets `token` ([`whisper_cancel_free`]).
pub fn cancel_free(token: i32) {
    // SAFETY: no pointers; the C function removes from a map under a mutex.
    unsafe { whisper_cancel_free(token) }
}

/// callscope addition: the calling thread's next `whisper_full` calls watch
/// `token` (0: none; [`whisper_cancel_watch`]).
pub fn cancel_watch(token: i32) {
    // SAFETY: no pointers; the C function writes a thread-local int.
    unsafe { whisper_cancel_watch(token) }
}
