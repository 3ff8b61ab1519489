// Salted, slow hashes of secrets (passwords, shared tokens), for the files
// that hold principals. OpenSSL's PBKDF2-HMAC-SHA256 with a random salt and
// a high iteration count; the encoded form names the algorithm and carries
// its parameters and salt, so they can change later without breaking files:
//
//   pbkdf2-sha256$ITERATIONS$SALT$HASH      (SALT and HASH in base64)
//
// Comparison is constant-time (base::SecretEquals). Thread-safe: no state.
#ifndef TXMSG_BASE_PASSWORD_HASH_H_
#define TXMSG_BASE_PASSWORD_HASH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace txmsg::base {

// OWASP's figure for PBKDF2-HMAC-SHA256 (2023): about 0.2 s on one core.
inline constexpr uint32_t kDefaultPbkdf2Iterations = 600'000;
inline constexpr char kPbkdf2Sha256[] = "pbkdf2-sha256";

// The encoded hash of `secret` with a fresh 16-byte random salt.
// INTERNAL if the random generator fails.
[[nodiscard]] absl::StatusOr<std::string> HashSecret(
    const std::string& secret, uint32_t iterations = kDefaultPbkdf2Iterations);

// Whether `secret` matches `encoded` (a HashSecret result). INVALID_ARGUMENT
// if `encoded` is malformed or names an unknown algorithm (the message names
// the part, never the secret).
[[nodiscard]] absl::StatusOr<bool> VerifySecret(const std::string& secret,
                                                const std::string& encoded);

// Checks the form of `encoded` without hashing anything: OK, or
// INVALID_ARGUMENT naming what is wrong.
[[nodiscard]] absl::Status CheckEncodedHash(const std::string& encoded);

// The algorithm named by `encoded` ("pbkdf2-sha256"), or "" if none.
std::string HashAlgorithm(const std::string& encoded);

// SHA-256 of `data` (32 raw bytes): a fast digest, for memory-only caches of
// already verified secrets; never for storing one.
std::string Sha256(const std::string& data);

}  // namespace txmsg::base

#endif  // TXMSG_BASE_PASSWORD_HASH_H_
