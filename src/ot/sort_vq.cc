// The C entry points to Highway's vqsort (hwy/contrib/sort), built only when CMake finds
// libhwy-dev (OTGEN_HAVE_HWY). One hwy::Sorter per thread: it holds vqsort's scratch, allocated
// once. vqsort dispatches at run time to the best instruction set (AVX2, AVX-512, ...); the
// sorted keys do not depend on it (a sort of distinct or bit-equal keys has one result).
#include <hwy/contrib/sort/vqsort.h>

#include <cstdint>

extern "C" {
void otgi_vqsort_u32(uint32_t *keys, int64_t n);
void otgi_vqsort_u64(uint64_t *keys, int64_t n);
}

static hwy::Sorter &thread_sorter() {
    static thread_local hwy::Sorter sorter;
    return sorter;
}

void otgi_vqsort_u32(uint32_t *keys, int64_t n) {
    thread_sorter()(keys, static_cast<size_t>(n), hwy::SortAscending());
}

void otgi_vqsort_u64(uint64_t *keys, int64_t n) {
    thread_sorter()(keys, static_cast<size_t>(n), hwy::SortAscending());
}
