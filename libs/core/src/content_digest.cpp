#include <attendance/core/content_digest.hpp>

#include <openssl/sha.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace attendance::core {
namespace {

std::string_view trim(std::string_view s) {
  const auto isOws = [](char c) { return c == ' ' || c == '\t'; };
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

DigestCheck checkContentDigest(std::string_view field, std::string_view body) {
  // A Structured Fields dictionary (RFC 8941): members "key=value;params" joined by
  // commas. Only the sha-256 member counts; base64 never contains ',' or ';'.
  std::string_view rest = field;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view member = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = member.find('=');
    if (trim(member.substr(0, eq)) != "sha-256") continue;
    if (eq == std::string_view::npos) return DigestCheck::malformed;
    std::string_view value = trim(member.substr(eq + 1));
    value = value.substr(0, value.find(';'));  // parameters carry nothing we use
    if (value.size() < 2 || value.front() != ':' || value.back() != ':') return DigestCheck::malformed;
    value = value.substr(1, value.size() - 2);
    std::array<unsigned char, SHA256_DIGEST_LENGTH + 1> sent{};
    std::size_t length = 0;
    if (sodium_base642bin(sent.data(), sent.size(), value.data(), value.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        length != SHA256_DIGEST_LENGTH) {
      return DigestCheck::malformed;
    }
    std::array<unsigned char, SHA256_DIGEST_LENGTH> actual{};
    SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), actual.data());
    return std::memcmp(actual.data(), sent.data(), actual.size()) == 0 ? DigestCheck::match : DigestCheck::mismatch;
  }
  return DigestCheck::absent;
}

}  // namespace attendance::core
