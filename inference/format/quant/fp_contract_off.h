// Included by the codec sources only (no include guard on purpose: it sets a per-file mode).
// No fused multiply-add contraction in the including file, whatever the build flags (-march with FMA
// makes GCC contract a * b + c by default): the decoders must round like ggml's reference code and
// the encoders must give the same bytes on every build.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
