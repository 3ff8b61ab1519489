#include "base/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/secret_file.h"
#include "absl/strings/str_split.h"

namespace txmsg::base {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
// Bounds on what a file may ask for: a hash must stay slow, and a hostile
// file must not make the broker spin for minutes.
constexpr uint32_t kMinIterations = 1'000;
constexpr uint32_t kMaxIterations = 100'000'000;

struct Parsed {
  uint32_t iterations = 0;
  std::string salt;
  std::string hash;
};

absl::StatusOr<Parsed> Parse(const std::string& encoded) {
  std::vector<std::string> parts = absl::StrSplit(encoded, '$');
  if (parts.size() != 4) {
    return absl::InvalidArgumentError(
        "a hashed secret has the form pbkdf2-sha256$ITERATIONS$SALT$HASH");
  }
  if (parts[0] != kPbkdf2Sha256) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown hash algorithm '", parts[0].substr(0, 32), "' (known: ", kPbkdf2Sha256, ")"));
  }
  Parsed p;
  if (!absl::SimpleAtoi(parts[1], &p.iterations) || p.iterations < kMinIterations ||
      p.iterations > kMaxIterations) {
    return absl::InvalidArgumentError(
        absl::StrCat("iterations must be a number from ", kMinIterations, " to ", kMaxIterations));
  }
  if (!absl::Base64Unescape(parts[2], &p.salt) || p.salt.size() < 8) {
    return absl::InvalidArgumentError("the salt is not base64 of at least 8 bytes");
  }
  if (!absl::Base64Unescape(parts[3], &p.hash) || p.hash.size() != kHashBytes) {
    return absl::InvalidArgumentError("the hash is not base64 of 32 bytes");
  }
  return p;
}

absl::StatusOr<std::string> Derive(const std::string& secret, const std::string& salt,
                                   uint32_t iterations) {
  std::string out(kHashBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), EVP_sha256(),
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    return absl::InternalError("PBKDF2 failed in OpenSSL");
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> HashSecret(const std::string& secret, uint32_t iterations) {
  if (iterations < kMinIterations || iterations > kMaxIterations) {
    return absl::InvalidArgumentError(
        absl::StrCat("iterations must be a number from ", kMinIterations, " to ", kMaxIterations));
  }
  std::string salt(kSaltBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), static_cast<int>(salt.size())) !=
      1) {
    return absl::InternalError("the random generator failed (RAND_bytes)");
  }
  absl::StatusOr<std::string> hash = Derive(secret, salt, iterations);
  if (!hash.ok()) return hash.status();
  return absl::StrCat(kPbkdf2Sha256, "$", iterations, "$", absl::Base64Escape(salt), "$",
                      absl::Base64Escape(*hash));
}

absl::StatusOr<bool> VerifySecret(const std::string& secret, const std::string& encoded) {
  absl::StatusOr<Parsed> p = Parse(encoded);
  if (!p.ok()) return p.status();
  absl::StatusOr<std::string> hash = Derive(secret, p->salt, p->iterations);
  if (!hash.ok()) return hash.status();
  return SecretEquals(*hash, p->hash);
}

absl::Status CheckEncodedHash(const std::string& encoded) { return Parse(encoded).status(); }

std::string HashAlgorithm(const std::string& encoded) {
  const size_t end = encoded.find('$');
  return end == std::string::npos ? "" : encoded.substr(0, end);
}

std::string Sha256(const std::string& data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace txmsg::base
