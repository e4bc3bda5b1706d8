// Carry-less-multiply folding for reflected CRCs of width 32 or 64 (x86-64 PCLMULQDQ), shared by
// crc32.cc and crc64nvme.cc. Written from the algebra, not from a reference implementation:
//  * a 16-byte block X = L*x^64 + H (L = bytes 0..7, H = bytes 8..15, each a reflected 64-bit lane,
//    bit i <-> x^(63-i)) moved D bytes ahead is X*x^(8D) mod P = L*x^(64+8D) + H*x^(8D) mod P;
//  * PCLMULQDQ of two reflected lanes gives, read as a reflected 128-bit value, x*A*B; so the fold
//    constants are kL = x^(64+8D-1) mod P and kH = x^(8D-1) mod P, computed at start-up by repeated
//    multiplication by x (the bitwise CRC step);
//  * four accumulators fold 64 bytes per round, then merge into one; the final 16-byte remainder R is
//    congruent to the message so far, so the table CRC of R from a zero register is the register.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tais {

struct FoldConstants {
  uint64_t k64[2];  // D = 64: kL, kH
  uint64_t k48[2];
  uint64_t k32[2];
  uint64_t k16[2];
};

// Reflected `bits`-wide polynomial `poly`: the constants above.
FoldConstants fold_constants(uint64_t poly, int bits);

// True when the CPU has PCLMULQDQ (and SSE4.1).
bool fold_supported();

// Folds `n` bytes (n % 16 == 0, n >= 64) of `p` with the raw (pre-inverted) register `reg` XORed into
// the first bytes; writes the 16-byte remainder to `out`.
void fold_blocks(const FoldConstants& k, uint64_t reg, const uint8_t* p, size_t n, uint8_t out[16]);

}  // namespace tais
