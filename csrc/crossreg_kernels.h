/*
 * crossreg_kernels.h -- plain C hot loops behind crossreg._native.
 *
 * Header-only (static functions), included by csrc/_native.pyx.  Every function here
 * assumes its arguments were validated by the Cython wrapper: non-NULL pointers for
 * non-empty arrays, pool >= 1, length % pool == 0, sorted/disjoint intervals where
 * stated.  Nothing here touches Python objects, so all of it runs without the GIL.
 *
 * Coordinates are 0-based, half-open.  Base order is A, C, G, T.
 */
#ifndef CROSSREG_KERNELS_H
#define CROSSREG_KERNELS_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <math.h>

/* SSE2 (baseline on x86-64) speeds up the dense transform; define CR_HAVE_SSE2 to 0 to
 * build the portable path, which gives bit-identical results. */
#ifndef CR_HAVE_SSE2
#if defined(__SSE2__)
#define CR_HAVE_SSE2 1
#else
#define CR_HAVE_SSE2 0
#endif
#endif
#if CR_HAVE_SSE2
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------------------- */
/* Lookup tables (generated once by a script, kept as literals).              */
/* ------------------------------------------------------------------------- */

/* Byte -> one-hot row (A, C, G, T); every byte other than ACGTacgt -> zeros.
 * Read as one 4-byte load/store per base (memcpy compiles to a single mov). */
static const uint8_t CR_ONE_HOT[256][4] = {
    ['A'] = {1, 0, 0, 0}, ['a'] = {1, 0, 0, 0},
    ['C'] = {0, 1, 0, 0}, ['c'] = {0, 1, 0, 0},
    ['G'] = {0, 0, 1, 0}, ['g'] = {0, 0, 1, 0},
    ['T'] = {0, 0, 0, 1}, ['t'] = {0, 0, 0, 1},
};

/* Byte -> code: A=0, C=1, G=2, T=3 (either case); every other byte -> 4. */
static const uint8_t CR_CODE[256] = {
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x00 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x10 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x20 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x30 */
      4,   0,   4,   1,   4,   4,   4,   2,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x40 */
      4,   4,   4,   4,   3,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x50 */
      4,   0,   4,   1,   4,   4,   4,   2,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x60 */
      4,   4,   4,   4,   3,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x70 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x80 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0x90 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0xa0 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0xb0 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0xc0 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0xd0 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0xe0 */
      4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,   4,  /* 0xf0 */
};

/* Byte -> 1 when it is neither ACGT nor N (either case): counted by encode_codes. */
static const uint8_t CR_NON_ACGTN[256] = {
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0x00 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0x10 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0x20 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0x30 */
      1,   0,   1,   0,   1,   1,   1,   0,   1,   1,   1,   1,   1,   1,   0,   1,  /* 0x40 */
      1,   1,   1,   1,   0,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0x50 */
      1,   0,   1,   0,   1,   1,   1,   0,   1,   1,   1,   1,   1,   1,   0,   1,  /* 0x60 */
      1,   1,   1,   1,   0,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0x70 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0x80 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0x90 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0xa0 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0xb0 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0xc0 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0xd0 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0xe0 */
      1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1,  /* 0xf0 */
};

/* Byte -> IUPAC complement, case preserved (A<->T, C<->G, R<->Y, K<->M, B<->V, D<->H;
 * S, W, N and every other byte map to themselves). */
static const uint8_t CR_COMPLEMENT[256] = {
      0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,  15,  /* 0x00 */
     16,  17,  18,  19,  20,  21,  22,  23,  24,  25,  26,  27,  28,  29,  30,  31,  /* 0x10 */
     32,  33,  34,  35,  36,  37,  38,  39,  40,  41,  42,  43,  44,  45,  46,  47,  /* 0x20 */
     48,  49,  50,  51,  52,  53,  54,  55,  56,  57,  58,  59,  60,  61,  62,  63,  /* 0x30 */
     64,  84,  86,  71,  72,  69,  70,  67,  68,  73,  74,  77,  76,  75,  78,  79,  /* 0x40 */
     80,  81,  89,  83,  65,  85,  66,  87,  88,  82,  90,  91,  92,  93,  94,  95,  /* 0x50 */
     96, 116, 118, 103, 104, 101, 102,  99, 100, 105, 106, 109, 108, 107, 110, 111,  /* 0x60 */
    112, 113, 121, 115,  97, 117,  98, 119, 120, 114, 122, 123, 124, 125, 126, 127,  /* 0x70 */
    128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143,  /* 0x80 */
    144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159,  /* 0x90 */
    160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175,  /* 0xa0 */
    176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191,  /* 0xb0 */
    192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207,  /* 0xc0 */
    208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223,  /* 0xd0 */
    224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239,  /* 0xe0 */
    240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254, 255,  /* 0xf0 */
};


/* Codes 0..4 -> one-hot rows, and codes -> reverse-complement codes. */
static const uint8_t CR_CODE_ONE_HOT[5][4] = {
    {1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {0, 0, 0, 0}};
static const uint8_t CR_CODE_COMPLEMENT[5] = {3, 2, 1, 0, 4};

/* ------------------------------------------------------------------------- */
/* Sequence kernels.                                                          */
/* ------------------------------------------------------------------------- */

/* Outputs at least this large (bytes) are written with non-temporal stores: they cannot
 * stay in cache anyway, and streaming them skips the read-for-ownership of each line. */
#define CR_STREAM_MIN_BYTES ((ptrdiff_t)8 << 20)

/* out[4*i .. 4*i+3] = one-hot row of s[i].  With SSE2, 16 bases at a time: fold case
 * (b & 0xdf maps only 'a' to 'A', etc.), compare with A, C, G, T and interleave the four
 * 0/1 byte masks into 64 output bytes.  Elsewhere (and for the tail) a 256-entry table
 * gives each base's row with one 4-byte load and store. */
static inline void cr_one_hot(const uint8_t *s, ptrdiff_t n, uint8_t *out)
{
    ptrdiff_t i = 0;
#if CR_HAVE_SSE2
    const __m128i fold = _mm_set1_epi8((char)0xdf), one = _mm_set1_epi8(1);
    const __m128i A = _mm_set1_epi8('A'), C = _mm_set1_epi8('C');
    const __m128i G = _mm_set1_epi8('G'), T = _mm_set1_epi8('T');
    const int stream = 4 * n >= CR_STREAM_MIN_BYTES && ((uintptr_t)out & 15u) == 0;
    for (; i + 16 <= n; i += 16) {
        __m128i u = _mm_and_si128(_mm_loadu_si128((const __m128i *)(s + i)), fold);
        __m128i a = _mm_and_si128(_mm_cmpeq_epi8(u, A), one);
        __m128i c = _mm_and_si128(_mm_cmpeq_epi8(u, C), one);
        __m128i g = _mm_and_si128(_mm_cmpeq_epi8(u, G), one);
        __m128i t = _mm_and_si128(_mm_cmpeq_epi8(u, T), one);
        __m128i ac_lo = _mm_unpacklo_epi8(a, c), ac_hi = _mm_unpackhi_epi8(a, c);
        __m128i gt_lo = _mm_unpacklo_epi8(g, t), gt_hi = _mm_unpackhi_epi8(g, t);
        __m128i r0 = _mm_unpacklo_epi16(ac_lo, gt_lo);  /* bases 0-3: A C G T each */
        __m128i r1 = _mm_unpackhi_epi16(ac_lo, gt_lo);  /* bases 4-7 */
        __m128i r2 = _mm_unpacklo_epi16(ac_hi, gt_hi);  /* bases 8-11 */
        __m128i r3 = _mm_unpackhi_epi16(ac_hi, gt_hi);  /* bases 12-15 */
        __m128i *o = (__m128i *)(out + 4 * i);
        if (stream) {
            _mm_stream_si128(o, r0);
            _mm_stream_si128(o + 1, r1);
            _mm_stream_si128(o + 2, r2);
            _mm_stream_si128(o + 3, r3);
        } else {
            _mm_storeu_si128(o, r0);
            _mm_storeu_si128(o + 1, r1);
            _mm_storeu_si128(o + 2, r2);
            _mm_storeu_si128(o + 3, r3);
        }
    }
    if (stream) _mm_sfence();
#endif
    for (; i < n; i++) {
        memcpy(out + 4 * i, CR_ONE_HOT[s[i]], 4);
    }
}

/* out[i] = code of s[i]; returns how many bytes were neither ACGT nor N (either case). */
static inline ptrdiff_t cr_encode_codes(const uint8_t *s, ptrdiff_t n, uint8_t *out)
{
    ptrdiff_t other = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        out[i] = CR_CODE[s[i]];
        other += CR_NON_ACGTN[s[i]];
    }
    return other;
}

/* Codes -> one-hot rows of `itemsize`-byte elements (1: uint8, 2: float16, 4: float32).
 * Writes 4 * n elements.  Returns the largest code seen (the caller rejects > 4); codes
 * above 4 write zeros. */
static inline int cr_codes_to_one_hot(const uint8_t *codes, ptrdiff_t n, void *out, int itemsize)
{
    unsigned maxc = 0;
    if (itemsize == 1) {
        uint8_t *o = (uint8_t *)out;
        for (ptrdiff_t i = 0; i < n; i++) {
            unsigned c = codes[i];
            maxc = c > maxc ? c : maxc;
            memcpy(o + 4 * i, CR_CODE_ONE_HOT[c > 4 ? 4 : c], 4);
        }
    } else if (itemsize == 2) {
        /* float16 bit patterns: 1.0 == 0x3c00, 0.0 == 0x0000. */
        uint16_t rows[5][4];
        for (int c = 0; c < 5; c++)
            for (int k = 0; k < 4; k++) rows[c][k] = CR_CODE_ONE_HOT[c][k] ? 0x3c00u : 0u;
        uint8_t *o = (uint8_t *)out;
        for (ptrdiff_t i = 0; i < n; i++) {
            unsigned c = codes[i];
            maxc = c > maxc ? c : maxc;
            memcpy(o + 8 * i, rows[c > 4 ? 4 : c], 8);
        }
    } else {
        float rows[5][4];
        for (int c = 0; c < 5; c++)
            for (int k = 0; k < 4; k++) rows[c][k] = CR_CODE_ONE_HOT[c][k] ? 1.0f : 0.0f;
        uint8_t *o = (uint8_t *)out;
        for (ptrdiff_t i = 0; i < n; i++) {
            unsigned c = codes[i];
            maxc = c > maxc ? c : maxc;
            memcpy(o + 16 * i, rows[c > 4 ? 4 : c], 16);
        }
    }
    return (int)maxc;
}

/* out[n-1-i] = complement(s[i]) (IUPAC, case preserved). */
static inline void cr_reverse_complement(const uint8_t *s, ptrdiff_t n, uint8_t *out)
{
    for (ptrdiff_t i = 0; i < n; i++) out[n - 1 - i] = CR_COMPLEMENT[s[i]];
}

/* out[n-1-i] = 3 - codes[i] for codes 0..3, 4 stays.  Returns the largest code seen. */
static inline int cr_reverse_complement_codes(const uint8_t *codes, ptrdiff_t n, uint8_t *out)
{
    unsigned maxc = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        unsigned c = codes[i];
        maxc = c > maxc ? c : maxc;
        out[n - 1 - i] = CR_CODE_COMPLEMENT[c > 4 ? 4 : c];
    }
    return (int)maxc;
}

/* ------------------------------------------------------------------------- */
/* Interval helpers.                                                          */
/* ------------------------------------------------------------------------- */

/* Clip intervals [starts[k], ends[k]) to the region [region_start, region_start + length),
 * shift them to region coordinates and store the non-empty ones as (start, end) pairs in
 * `pairs` (room for 2 * n int64).  Returns the number of pairs kept, or -1 - k when
 * ends[k] < starts[k] (malformed interval k).  *sorted is set to 1 when the kept pairs are
 * already in non-decreasing start order. */
static inline ptrdiff_t cr_clip_intervals(const int64_t *starts, const int64_t *ends, ptrdiff_t n,
                                   int64_t region_start, int64_t length, int64_t *pairs,
                                   int *sorted)
{
    ptrdiff_t kept = 0;
    int64_t prev = INT64_MIN;
    int is_sorted = 1;
    int64_t region_end = region_start + length;
    for (ptrdiff_t k = 0; k < n; k++) {
        int64_t s = starts[k], e = ends[k];
        if (e < s) return -1 - k;
        if (s < region_start) s = region_start;
        if (e > region_end) e = region_end;
        if (s >= e) continue;
        s -= region_start;
        e -= region_start;
        if (s < prev) is_sorted = 0;
        prev = s;
        pairs[2 * kept] = s;
        pairs[2 * kept + 1] = e;
        kept++;
    }
    *sorted = is_sorted;
    return kept;
}

static inline int cr_pair_cmp(const void *a, const void *b)
{
    const int64_t *x = (const int64_t *)a, *y = (const int64_t *)b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    if (x[1] != y[1]) return x[1] < y[1] ? -1 : 1;
    return 0;
}

/* Sort (if needed) and merge overlapping or touching (start, end) pairs in place.
 * Returns the number of disjoint, sorted pairs left. */
static inline ptrdiff_t cr_sort_merge_pairs(int64_t *pairs, ptrdiff_t n, int sorted)
{
    if (n <= 0) return 0;
    if (!sorted) qsort(pairs, (size_t)n, 2 * sizeof(int64_t), cr_pair_cmp);
    ptrdiff_t m = 0;
    for (ptrdiff_t k = 1; k < n; k++) {
        int64_t s = pairs[2 * k], e = pairs[2 * k + 1];
        if (s <= pairs[2 * m + 1]) {
            if (e > pairs[2 * m + 1]) pairs[2 * m + 1] = e;
        } else {
            m++;
            pairs[2 * m] = s;
            pairs[2 * m + 1] = e;
        }
    }
    return m + 1;
}

/* Index of the first data run that is malformed (end < start) or overlaps / precedes the
 * previous one (start < previous end); -1 when the runs are sorted and disjoint. */
static inline ptrdiff_t cr_check_runs(const int64_t *starts, const int64_t *ends, ptrdiff_t n)
{
    for (ptrdiff_t k = 0; k < n; k++) {
        if (ends[k] < starts[k]) return k;
        if (k > 0 && starts[k] < ends[k - 1]) return k;
    }
    return -1;
}

/* First index k with ends[k] > pos (ends non-decreasing), n when none. */
static inline ptrdiff_t cr_first_end_after(const int64_t *ends, ptrdiff_t n, int64_t pos)
{
    ptrdiff_t lo = 0, hi = n;
    while (lo < hi) {
        ptrdiff_t mid = lo + (hi - lo) / 2;
        if (ends[mid] > pos) hi = mid; else lo = mid + 1;
    }
    return lo;
}

/* ------------------------------------------------------------------------- */
/* float32 -> float16 (IEEE binary16 bits), round to nearest even.            */
/* Bit-for-bit the same as NumPy's float32 -> float16 cast.                   */
/* ------------------------------------------------------------------------- */

static inline uint16_t cr_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) {                  /* inf or NaN */
        if (ax == 0x7f800000u) return sign | 0x7c00u;
        uint16_t h = (uint16_t)(0x7c00u + ((ax & 0x007fffffu) >> 13));
        if (h == 0x7c00u) h++;                /* keep it a NaN */
        return sign | h;
    }
    if (ax >= 0x477ff000u) return sign | 0x7c00u;  /* >= 65520: rounds to inf */
    if (ax >= 0x38800000u) {                  /* normal half (>= 2^-14) */
        uint32_t r = ax - 0x38000000u;        /* rebias exponent 127 -> 15 */
        r += 0x0fffu + ((r >> 13) & 1u);      /* round to nearest, ties to even */
        return sign | (uint16_t)(r >> 13);
    }
    if (ax < 0x33000000u) return sign;        /* <= 2^-25 (tie goes to even 0) */
    /* subnormal half: value / 2^-24 rounded to nearest even */
    uint32_t e = ax >> 23;                    /* 102 .. 112 */
    uint32_t m = (ax & 0x007fffffu) | 0x00800000u;
    uint32_t shift = 126u - e;                /* 14 .. 24 */
    uint32_t q = m >> shift;
    uint32_t rem = m & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (q & 1u))) q++;
    return sign | (uint16_t)q;
}

/* ------------------------------------------------------------------------- */
/* Target transform.                                                          */
/* ------------------------------------------------------------------------- */

typedef struct {
    double baseline;   /* value of masked bases */
    ptrdiff_t pool;    /* bases per bin, >= 1 */
    int mean;          /* 1: mean over the bin, 0: sum */
    int has_soft;      /* apply the soft clip at `soft` */
    double soft;
    int has_clip;      /* apply the hard clip at `clip` */
    double clip;
    double scale;
} cr_params;

#define CR_F16_MAX 65504.0f

/* Pooled bin sum -> float16 bits (mean, soft clip, hard clip, scale, float32, saturate). */
static inline uint16_t cr_finish_bin(double sum, const cr_params *p, ptrdiff_t *nsat)
{
    double x = p->mean ? sum / (double)p->pool : sum;
    if (p->has_soft) {
        double d = x - p->soft;
        if (!(d > 0.0)) d = 0.0;
        double y = p->soft + sqrt(d);
        if (y < x) x = y;
    }
    if (p->has_clip && x > p->clip) x = p->clip;
    x *= p->scale;
    float f = (float)x;
    if (f > CR_F16_MAX) {
        f = CR_F16_MAX;
        ++*nsat;
    } else if (f < -CR_F16_MAX) {
        f = -CR_F16_MAX;
        ++*nsat;
    }
    return cr_f32_to_f16(f);
}

/* Clean one raw value: NaN and negatives -> 0 (one comparison handles both). */
static inline double cr_clean(float v) { return v > 0.0f ? (double)v : 0.0; }

static inline void cr_store_f16(char *out, ptrdiff_t stride, ptrdiff_t b, uint16_t h)
{
    memcpy(out + b * stride, &h, 2);
}

/* Summing the cleaned, unmasked values of one bin of n bases.
 *
 * Blocks of 32 elements (k = 32 * i + j, j < 32) feed 16 float64 lanes: lane j (j < 16)
 * adds ((double)x[32i + j] + (double)x[32i + 16 + j]) for each block i in order, where x is
 * the cleaned value (NaN, -0 and negatives -> +0; masked -> +0).  The n % 32 elements
 * after the last block are added to lane 0 one by one, and the lanes are combined by the
 * fixed tree of cr_combine_lanes.  The portable, SSE2 and AVX2 bodies implement exactly
 * this order, so they give bit-identical sums; AVX2 is chosen at run time when the CPU
 * has it.  Masked bases are counted; the caller adds count * baseline.
 */
#define CR_LANES 16
#define CR_BLOCK 32

static inline double cr_combine_lanes(const double *l)
{
    double t[4];
    for (int j = 0; j < 4; j++)
        t[j] = (l[j] + l[4 + j]) + (l[8 + j] + l[12 + j]);
    return (t[0] + t[1]) + (t[2] + t[3]);
}

/* Elements after the last full block: lane 0, one by one.  Returns masked count. */
static inline ptrdiff_t cr_sum_tail(const float *v, const uint8_t *m, ptrdiff_t k,
                                    ptrdiff_t n, double *l)
{
    ptrdiff_t masked = 0;
    for (; k < n; k++) {
        if (m && m[k]) masked++;
        else l[0] += cr_clean(v[k]);
    }
    return masked;
}

/* Portable body: *sum = the bin's unmasked sum in the order above; returns the masked count. */
static inline ptrdiff_t cr_lanes_portable(const float *v, const uint8_t *m, ptrdiff_t n,
                                          double *sum)
{
    double l[CR_LANES];
    ptrdiff_t masked = 0, k = 0;
    for (int j = 0; j < CR_LANES; j++) l[j] = 0.0;
    for (; k + CR_BLOCK <= n; k += CR_BLOCK) {
        for (int j = 0; j < CR_LANES; j++) {
            float a = v[k + j] > 0.0f ? v[k + j] : 0.0f;
            float b = v[k + CR_LANES + j] > 0.0f ? v[k + CR_LANES + j] : 0.0f;
            if (m && m[k + j]) {
                a = 0.0f;
                masked++;
            }
            if (m && m[k + CR_LANES + j]) {
                b = 0.0f;
                masked++;
            }
            l[j] += (double)a + (double)b;
        }
    }
    masked += cr_sum_tail(v, m, k, n, l);
    *sum = cr_combine_lanes(l);
    return masked;
}

#if CR_HAVE_SSE2
/* 16 mask bytes -> four 4-lane "keep" masks (all ones where the byte is 0). */
static inline void cr_keep_masks_sse2(const uint8_t *m, __m128i *keep, __m128i *kept)
{
    const __m128i izero = _mm_setzero_si128();
    __m128i keep8 = _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)m), izero);
    *kept = _mm_add_epi64(*kept, _mm_sad_epu8(_mm_and_si128(keep8, _mm_set1_epi8(1)), izero));
    __m128i lo16 = _mm_unpacklo_epi8(keep8, keep8);
    __m128i hi16 = _mm_unpackhi_epi8(keep8, keep8);
    keep[0] = _mm_unpacklo_epi16(lo16, lo16);
    keep[1] = _mm_unpackhi_epi16(lo16, lo16);
    keep[2] = _mm_unpacklo_epi16(hi16, hi16);
    keep[3] = _mm_unpackhi_epi16(hi16, hi16);
}

static inline ptrdiff_t cr_lanes_sse2(const float *v, const uint8_t *m, ptrdiff_t n,
                                      double *sum)
{
    __m128d s[8];
    for (int j = 0; j < 8; j++) s[j] = _mm_setzero_pd();
    const __m128 zero = _mm_setzero_ps();
    __m128i kept = _mm_setzero_si128();  /* unmasked count, two 64-bit halves */
    ptrdiff_t k = 0;
    for (; k + CR_BLOCK <= n; k += CR_BLOCK) {
        __m128 a[4], b[4];
        for (int j = 0; j < 4; j++) {
            /* max(x, +0) returns +0 for NaN, -0 and negatives */
            a[j] = _mm_max_ps(_mm_loadu_ps(v + k + 4 * j), zero);
            b[j] = _mm_max_ps(_mm_loadu_ps(v + k + CR_LANES + 4 * j), zero);
        }
        if (m) {
            __m128i ka[4], kb[4];
            cr_keep_masks_sse2(m + k, ka, &kept);
            cr_keep_masks_sse2(m + k + CR_LANES, kb, &kept);
            for (int j = 0; j < 4; j++) {
                a[j] = _mm_and_ps(a[j], _mm_castsi128_ps(ka[j]));
                b[j] = _mm_and_ps(b[j], _mm_castsi128_ps(kb[j]));
            }
        }
        for (int j = 0; j < 4; j++) {
            __m128d lo = _mm_add_pd(_mm_cvtps_pd(a[j]), _mm_cvtps_pd(b[j]));
            __m128d hi = _mm_add_pd(_mm_cvtps_pd(_mm_movehl_ps(a[j], a[j])),
                                    _mm_cvtps_pd(_mm_movehl_ps(b[j], b[j])));
            s[2 * j] = _mm_add_pd(s[2 * j], lo);
            s[2 * j + 1] = _mm_add_pd(s[2 * j + 1], hi);
        }
    }
    double l[CR_LANES];
    for (int j = 0; j < 8; j++) _mm_storeu_pd(l + 2 * j, s[j]);
    ptrdiff_t masked = 0;
    if (m) {
        int64_t kept64[2];
        _mm_storeu_si128((__m128i *)kept64, kept);
        masked = k - (ptrdiff_t)(kept64[0] + kept64[1]);
    }
    masked += cr_sum_tail(v, m, k, n, l);
    *sum = cr_combine_lanes(l);
    return masked;
}
#endif

/* AVX2 body, compiled for AVX2 through function attributes; used only when the CPU has it. */
#if CR_HAVE_SSE2 && defined(__GNUC__) && defined(__x86_64__) && !defined(CR_NO_AVX2)
#define CR_HAVE_AVX2 1
#include <immintrin.h>
#define CR_AVX2 __attribute__((target("avx2")))

CR_AVX2 static inline ptrdiff_t cr_lanes_avx2(const float *v, const uint8_t *m, ptrdiff_t n,
                                              double *sum)
{
    double l[CR_LANES];
    __m256d s[4];
    for (int j = 0; j < 4; j++) s[j] = _mm256_setzero_pd();
    const __m256 zero = _mm256_setzero_ps();
    const __m256i izero = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi8(1);
    __m256i nmask = _mm256_setzero_si256();  /* masked counts, four 64-bit lanes */
    ptrdiff_t k = 0;
    for (; k + CR_BLOCK <= n; k += CR_BLOCK) {
        /* elements 0-7, 8-15 (a) and 16-23, 24-31 (b); max(x, +0) cleans NaN/negatives */
        __m256 a0 = _mm256_max_ps(_mm256_loadu_ps(v + k), zero);
        __m256 a1 = _mm256_max_ps(_mm256_loadu_ps(v + k + 8), zero);
        __m256 b0 = _mm256_max_ps(_mm256_loadu_ps(v + k + 16), zero);
        __m256 b1 = _mm256_max_ps(_mm256_loadu_ps(v + k + 24), zero);
        __m256i mk = m ? _mm256_loadu_si256((const __m256i *)(m + k)) : izero;
        /* blocks without masked bases (the common case: masks come in runs) skip this */
        if (!_mm256_testz_si256(mk, mk)) {
            __m256i keep8 = _mm256_cmpeq_epi8(mk, izero);  /* 0xff where the byte is 0 */
            nmask = _mm256_add_epi64(nmask,
                                     _mm256_sad_epu8(_mm256_andnot_si256(keep8, ones), izero));
            __m128i klo = _mm256_castsi256_si128(keep8);
            __m128i khi = _mm256_extracti128_si256(keep8, 1);
            __m256i k0 = _mm256_cvtepi8_epi32(klo);
            __m256i k1 = _mm256_cvtepi8_epi32(_mm_srli_si128(klo, 8));
            __m256i k2 = _mm256_cvtepi8_epi32(khi);
            __m256i k3 = _mm256_cvtepi8_epi32(_mm_srli_si128(khi, 8));
            a0 = _mm256_and_ps(a0, _mm256_castsi256_ps(k0));
            a1 = _mm256_and_ps(a1, _mm256_castsi256_ps(k1));
            b0 = _mm256_and_ps(b0, _mm256_castsi256_ps(k2));
            b1 = _mm256_and_ps(b1, _mm256_castsi256_ps(k3));
        }
        s[0] = _mm256_add_pd(s[0], _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a0)),
                                                 _mm256_cvtps_pd(_mm256_castps256_ps128(b0))));
        s[1] = _mm256_add_pd(s[1], _mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a0, 1)),
                                                 _mm256_cvtps_pd(_mm256_extractf128_ps(b0, 1))));
        s[2] = _mm256_add_pd(s[2], _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(a1)),
                                                 _mm256_cvtps_pd(_mm256_castps256_ps128(b1))));
        s[3] = _mm256_add_pd(s[3], _mm256_add_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(a1, 1)),
                                                 _mm256_cvtps_pd(_mm256_extractf128_ps(b1, 1))));
    }
    ptrdiff_t masked = 0;
    if (m) {
        __m128i c = _mm_add_epi64(_mm256_castsi256_si128(nmask),
                                  _mm256_extracti128_si256(nmask, 1));
        masked = (ptrdiff_t)_mm_cvtsi128_si64(_mm_add_epi64(c, _mm_unpackhi_epi64(c, c)));
    }
    if (k < n) {  /* a tail: go through memory and the scalar combine */
        for (int j = 0; j < 4; j++) _mm256_storeu_pd(l + 4 * j, s[j]);
        masked += cr_sum_tail(v, m, k, n, l);
        *sum = cr_combine_lanes(l);
        return masked;
    }
    /* cr_combine_lanes in registers: t = (s0 + s1) + (s2 + s3); (t0 + t1) + (t2 + t3) */
    __m256d t = _mm256_add_pd(_mm256_add_pd(s[0], s[1]), _mm256_add_pd(s[2], s[3]));
    __m128d u = _mm_hadd_pd(_mm256_castpd256_pd128(t), _mm256_extractf128_pd(t, 1));
    *sum = _mm_cvtsd_f64(_mm_add_sd(u, _mm_unpackhi_pd(u, u)));
    return masked;
}
#else
#define CR_HAVE_AVX2 0
#endif

/* Which body the dense transform uses: 0 portable, 1 SSE2, 2 AVX2 (the best available). */
static inline int cr_sum_path(void)
{
#if CR_HAVE_AVX2
    if (__builtin_cpu_supports("avx2")) return 2;
#endif
    return CR_HAVE_SSE2 ? 1 : 0;
}

/* The bin loop of the dense transform, shared by all bodies (inlined into each).  Bins are
 * done in chunks: first the sums of a chunk (vector work only), then their finishing (short
 * independent scalar chains that overlap well). */
#define CR_CHUNK 64
#define CR_DENSE_LOOP(LANES)                                                              \
    do {                                                                                  \
        double sums[CR_CHUNK];                                                            \
        for (ptrdiff_t b0 = 0; b0 < nbins; b0 += CR_CHUNK) {                              \
            ptrdiff_t nb = nbins - b0 < CR_CHUNK ? nbins - b0 : CR_CHUNK;                 \
            for (ptrdiff_t i = 0; i < nb; i++) {                                          \
                ptrdiff_t off = (b0 + i) * pool;                                          \
                ptrdiff_t nmasked = LANES(values + off, mask ? mask + off : NULL, pool,   \
                                          &sums[i]);                                      \
                if (nmasked) sums[i] += (double)nmasked * p->baseline;                    \
            }                                                                             \
            for (ptrdiff_t i = 0; i < nb; i++)                                            \
                cr_store_f16(out, stride, b0 + i, cr_finish_bin(sums[i], p, &nsat));      \
        }                                                                                 \
    } while (0)

static inline ptrdiff_t cr_dense_portable(const float *values, const uint8_t *mask,
                                          ptrdiff_t nbins, ptrdiff_t pool, const cr_params *p,
                                          char *out, ptrdiff_t stride)
{
    ptrdiff_t nsat = 0;
    CR_DENSE_LOOP(cr_lanes_portable);
    return nsat;
}

#if CR_HAVE_SSE2
static inline ptrdiff_t cr_dense_sse2(const float *values, const uint8_t *mask,
                                      ptrdiff_t nbins, ptrdiff_t pool, const cr_params *p,
                                      char *out, ptrdiff_t stride)
{
    ptrdiff_t nsat = 0;
    CR_DENSE_LOOP(cr_lanes_sse2);
    return nsat;
}
#endif

#if CR_HAVE_AVX2
CR_AVX2 static inline ptrdiff_t cr_dense_avx2(const float *values, const uint8_t *mask,
                                              ptrdiff_t nbins, ptrdiff_t pool,
                                              const cr_params *p, char *out, ptrdiff_t stride)
{
    ptrdiff_t nsat = 0;
    CR_DENSE_LOOP(cr_lanes_avx2);
    return nsat;
}
#endif

/* Dense transform of one region: values[L] (float32), mask[L] (nonzero = masked, or NULL),
 * L % pool == 0.  Writes L / pool float16 bins at out + b * stride (bytes).  Returns the
 * number of saturated bins.  A bin's sum is (sum of its unmasked cleaned values, in the
 * order described above) + (number of masked bases) * baseline, in float64.  `path` is
 * cr_sum_path() or a lower supported value (all give the same result). */
static inline ptrdiff_t cr_transform_dense_path(const float *values, const uint8_t *mask,
                                                ptrdiff_t L, const cr_params *p, char *out,
                                                ptrdiff_t stride, int path)
{
    const ptrdiff_t pool = p->pool, nbins = L / pool;
#if CR_HAVE_AVX2
    if (path == 2) return cr_dense_avx2(values, mask, nbins, pool, p, out, stride);
#endif
#if CR_HAVE_SSE2
    if (path >= 1) return cr_dense_sse2(values, mask, nbins, pool, p, out, stride);
#endif
    (void)path;
    return cr_dense_portable(values, mask, nbins, pool, p, out, stride);
}

static inline ptrdiff_t cr_transform_dense(const float *values, const uint8_t *mask,
                                           ptrdiff_t L, const cr_params *p, char *out,
                                           ptrdiff_t stride)
{
    return cr_transform_dense_path(values, mask, L, p, out, stride, cr_sum_path());
}

/* Interval transform of one region [region_start, region_start + length).
 * Data runs (starts, ends, values; absolute coordinates, sorted, disjoint, may reach past
 * the region) start at index `first` (the first run ending after region_start).  Positions
 * covered by no run are 0.  Mask: `nm` disjoint sorted (start, end) pairs in region
 * coordinates, clipped to [0, length).  The region is walked in constant pieces (split at
 * run, mask and bin boundaries); each piece adds value * width to its bin, so the cost is
 * O(runs + mask pieces + bins), independent of the number of bases. */
static inline ptrdiff_t cr_transform_intervals(const int64_t *starts, const int64_t *ends,
                                        const float *values, ptrdiff_t n, ptrdiff_t first,
                                        const int64_t *mpairs, ptrdiff_t nm,
                                        int64_t region_start, int64_t length,
                                        const cr_params *p, char *out, ptrdiff_t stride)
{
    const int64_t pool = (int64_t)p->pool;
    ptrdiff_t i = first, j = 0, b = 0, nsat = 0;
    int64_t pos = 0, bin_end = pool;
    double acc = 0.0;
    while (pos < length) {
        while (i < n && ends[i] - region_start <= pos) i++;
        double dval;
        int64_t next;
        if (i < n && starts[i] - region_start <= pos) {
            dval = cr_clean(values[i]);
            next = ends[i] - region_start;
        } else {
            dval = 0.0;
            next = i < n ? starts[i] - region_start : length;
        }
        while (j < nm && mpairs[2 * j + 1] <= pos) j++;
        int masked = 0;
        if (j < nm && mpairs[2 * j] <= pos) {
            masked = 1;
            if (mpairs[2 * j + 1] < next) next = mpairs[2 * j + 1];
        } else if (j < nm && mpairs[2 * j] < next) {
            next = mpairs[2 * j];
        }
        if (bin_end < next) next = bin_end;
        acc += (masked ? p->baseline : dval) * (double)(next - pos);
        pos = next;
        if (pos == bin_end) {
            cr_store_f16(out, stride, b, cr_finish_bin(acc, p, &nsat));
            b++;
            acc = 0.0;
            bin_end += pool;
        }
    }
    return nsat;
}

#endif /* CROSSREG_KERNELS_H */
