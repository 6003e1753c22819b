// glibc's malloc tuning (mallopt and its M_* parameters), which Swift's Glibc module leaves out.
#if defined(__linux__)
#include <malloc.h>
#endif
