#if os(Linux)
    import CMalloc
    import Glibc
#endif

/// glibc gives each thread that meets contention its own malloc arena, and memory freed in one
/// arena is not reused by another: with the worker's tasks hopping between threads, a
/// 10,000-alert cycle left about 6 MB more resident than with one arena, for a few percent of
/// delivery throughput (Benchmarks/notification-throughput). MALLOC_ARENA_MAX in the
/// environment still wins, for anyone who measures otherwise.
func useOneMallocArena() {
    #if os(Linux)
        if getenv("MALLOC_ARENA_MAX") == nil { _ = mallopt(M_ARENA_MAX, 1) }
    #endif
}
