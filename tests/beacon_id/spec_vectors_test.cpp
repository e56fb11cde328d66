// The test vectors of docs/beacon-spec.md are this library's output: the test reads each vector's
// inputs (key, namespace, period, time) from the document, computes every output line with the
// library and requires the document's block to be exactly what it computed. When the two disagree
// the failure prints the block the code computes. tests/beacon_id/spec_vectors_check.py checks the
// same block with an independent implementation (Python's hmac and hashlib).
#include <attendance/beacon_id/advert.hpp>
#include <attendance/beacon_id/rotating_id.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace attendance;
using namespace attendance::beacon_id;

constexpr std::string_view kBegin = "<!-- beacon-vectors:begin -->";
constexpr std::string_view kEnd = "<!-- beacon-vectors:end -->";

std::string readSpec() {
  std::ifstream in(std::string{ATTENDANCE_SOURCE_DIR} + "/docs/beacon-spec.md");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The lines of the ```text block between the markers.
std::string vectorBlock(const std::string& doc) {
  const auto begin = doc.find(kBegin);
  const auto end = doc.find(kEnd);
  if (begin == std::string::npos || end == std::string::npos || end < begin) return {};
  std::string block = doc.substr(begin + kBegin.size(), end - begin - kBegin.size());
  const auto open = block.find("```text\n");
  const auto close = block.rfind("```");
  if (open == std::string::npos || close == std::string::npos || close <= open) return {};
  return block.substr(open + 8, close - open - 8);
}

template <class Bytes>
std::string hex(const Bytes& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0f];
  }
  return out;
}

std::string utc(std::int64_t unixMs) {
  const std::time_t s = static_cast<std::time_t>(unixMs / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(unixMs % 1000));
  return out;
}

std::string line(std::string_view name, const std::string& value) {
  std::string l{name};
  l.resize(11, ' ');
  return l + value + "\n";
}

struct Inputs {
  int number = 0;
  std::string key, ns, period, time;
};

// Every "vector N" paragraph's inputs; the outputs are recomputed, not read.
std::vector<Inputs> parseInputs(const std::string& block) {
  std::vector<Inputs> out;
  std::istringstream in(block);
  std::string l;
  while (std::getline(in, l)) {
    std::istringstream words(l);
    std::string name, value;
    words >> name >> value;
    if (name == "vector") {
      out.emplace_back().number = std::stoi(value);
    } else if (!out.empty()) {
      if (name == "key") out.back().key = value;
      if (name == "namespace") out.back().ns = value;
      if (name == "period") out.back().period = value;
      if (name == "time") out.back().time = value;
    }
  }
  return out;
}

std::string computeVector(const Inputs& in) {
  const auto key = IdentityKey::parseHex(in.key);
  const auto ns = support::BleNamespace::parseHex(in.ns);
  const auto period = RotationPeriod::create(std::chrono::seconds{std::stoll(in.period)});
  const std::int64_t time = std::stoll(in.time);
  if (!key || !ns || !period) return "vector " + std::to_string(in.number) + ": unreadable inputs\n";
  const Window window = windowAt(time, *period).value();
  const auto id = bleUuidFor(*key, *ns, window);
  std::string v = "vector " + std::to_string(in.number) + "\n";
  v += line("key", key->toHex());
  v += line("namespace", ns->toHex());
  v += line("period", std::to_string(period->seconds().count()));
  v += line("time", std::to_string(time));
  v += line("utc", utc(time));
  v += line("window", std::to_string(window));
  v += line("message", hex(derivationMessage(*ns, window)));
  v += line("hmac", hex(derivationMac(*key, *ns, window)));
  v += line("instance", hex(instanceFor(*key, *ns, window)));
  v += line("bleUuid", id.toString());
  v += line("ibeacon", hex(iBeaconAdvertisingData(id)));
  v += line("eddystone", hex(eddystoneUidAdvertisingData(id)));
  return v;
}

TEST(SpecVectors, TheDocumentsVectorsAreWhatTheLibraryComputes) {
  const std::string block = vectorBlock(readSpec());
  ASSERT_FALSE(block.empty()) << "docs/beacon-spec.md has no ```text block between " << kBegin << " and " << kEnd;
  const auto inputs = parseInputs(block);
  ASSERT_GE(inputs.size(), 4U) << "the spec should carry at least 4 vectors";
  std::string expected;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (i > 0) expected += "\n";
    expected += computeVector(inputs[i]);
  }
  EXPECT_EQ(block, expected) << "docs/beacon-spec.md disagrees with the code; the code computes:\n" << expected;
}

// Independent of the document: the first vector's inputs and two outputs, so editing the document
// and the code together in the same wrong way still fails here.
TEST(SpecVectors, TheFirstVectorIsPinned) {
  const auto inputs = parseInputs(vectorBlock(readSpec()));
  ASSERT_FALSE(inputs.empty());
  EXPECT_EQ(inputs[0].key, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  EXPECT_EQ(inputs[0].ns, "edd1ebeac04e5defa017");
  EXPECT_EQ(inputs[0].period, "900");
  EXPECT_EQ(inputs[0].time, "1721471400000");
  const std::string v = computeVector(inputs[0]);
  EXPECT_NE(v.find(line("instance", "1b413700621c")), std::string::npos) << v;
  EXPECT_NE(v.find(line("bleUuid", "edd1ebea-c04e-5def-a017-1b413700621c")), std::string::npos) << v;
}

}  // namespace
