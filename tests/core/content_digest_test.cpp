#include <attendance/core/content_digest.hpp>

#include <gtest/gtest.h>

namespace core = attendance::core;
using core::DigestCheck;

namespace {
// RFC 9530's example: the SHA-256 of {"hello": "world"}.
constexpr const char* kBody = R"({"hello": "world"})";
constexpr const char* kDigest = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:";
}  // namespace

TEST(ContentDigest, TheRightDigestMatches) {
  EXPECT_EQ(core::checkContentDigest(kDigest, kBody), DigestCheck::match);
  // Other members, whitespace and parameters around it change nothing.
  EXPECT_EQ(core::checkContentDigest(std::string("md5=:AAAA:, ") + kDigest + ";p=1", kBody), DigestCheck::match);
  EXPECT_EQ(core::checkContentDigest("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:", ""), DigestCheck::match);
}

TEST(ContentDigest, AnyChangedByteIsAMismatch) {
  std::string body = kBody;
  for (std::size_t i = 0; i < body.size(); ++i) {
    std::string changed = body;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_EQ(core::checkContentDigest(kDigest, changed), DigestCheck::mismatch) << i;
  }
  EXPECT_EQ(core::checkContentDigest(kDigest, body + " "), DigestCheck::mismatch);
  EXPECT_EQ(core::checkContentDigest(kDigest, body.substr(1)), DigestCheck::mismatch);
}

TEST(ContentDigest, NoSha256MemberIsAbsentNotAnError) {
  EXPECT_EQ(core::checkContentDigest("", kBody), DigestCheck::absent);
  EXPECT_EQ(core::checkContentDigest("sha-512=:AAAA:", kBody), DigestCheck::absent);
  EXPECT_EQ(core::checkContentDigest("unixsum=30637", kBody), DigestCheck::absent);
}

TEST(ContentDigest, AMalformedSha256MemberIsMalformed) {
  for (const char* field :
       {"sha-256", "sha-256=", "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", "sha-256=:not base64!:",
        "sha-256=:AAAA:", "sha-256=::", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=AAAA:"}) {
    EXPECT_EQ(core::checkContentDigest(field, kBody), DigestCheck::malformed) << field;
  }
}
