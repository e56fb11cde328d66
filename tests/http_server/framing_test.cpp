// The pure framing rules (libs/http_server/src/framing.*): which Transfer-Encodings
// a request may use, and how many bytes on the wire a body may take.
#include <gtest/gtest.h>

#include "framing.hpp"

namespace hs = attendance::http_server;
namespace detail = attendance::http_server::detail;
namespace http = boost::beast::http;

namespace {

hs::Request withTe(std::initializer_list<const char*> fields, unsigned version = 11) {
  hs::Request r{http::verb::post, "/x", version};
  for (const char* f : fields) r.insert(http::field::transfer_encoding, f);
  return r;
}

}  // namespace

TEST(Framing, NoTransferEncodingAndPlainChunkedAreAccepted) {
  EXPECT_FALSE(detail::checkTransferEncoding(withTe({})));
  EXPECT_FALSE(detail::checkTransferEncoding(withTe({"chunked"})));
  EXPECT_FALSE(detail::checkTransferEncoding(withTe({"  Chunked "})));
}

TEST(Framing, AFinalCodingOtherThanChunkedIs400) {
  for (auto* te : {"gzip", "chunked, gzip", "identity", "chunked;q=1", ""}) {
    auto r = detail::checkTransferEncoding(withTe({te}));
    ASSERT_TRUE(r) << te;
    EXPECT_EQ(r->status, http::status::bad_request) << te;
  }
  // Split over two fields, the list is read as one: "chunked" then "gzip".
  auto split = detail::checkTransferEncoding(withTe({"chunked", "gzip"}));
  ASSERT_TRUE(split);
  EXPECT_EQ(split->status, http::status::bad_request);
}

TEST(Framing, ACodingBeforeChunkedIsNotImplemented) {
  auto r = detail::checkTransferEncoding(withTe({"gzip, chunked"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, http::status::not_implemented);
  r = detail::checkTransferEncoding(withTe({"gzip", "chunked"}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, http::status::not_implemented);
}

TEST(Framing, TransferEncodingInHttp10Is400) {
  auto r = detail::checkTransferEncoding(withTe({"chunked"}, 10));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, http::status::bad_request);
}

TEST(Framing, WireBudgetIsTheLimitPlusAQuarterAtLeast64KiB) {
  EXPECT_EQ(detail::bodyWireBudget(1000), 1000U + 64U * 1024U);
  EXPECT_EQ(detail::bodyWireBudget(16U << 20), (16U << 20) + (4U << 20));
  EXPECT_EQ(detail::readBufferLimit(16 * 1024, 8 * 1024), 20U * 1024U);
}
