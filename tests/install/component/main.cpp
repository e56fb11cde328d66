// One call into the component under test, so its library and every dependency it
// needs are really linked (a static library's dependencies show up at link time).
#include <cstdio>
#include <string>

#if defined(ATTENDANCE_COMPONENT_ble_scan)
#include <cstdint>
#include <vector>

#include <attendance/ble_scan/advertisement.hpp>
#elif defined(ATTENDANCE_COMPONENT_beacon_id)
#include <attendance/beacon_id/advert.hpp>
#include <attendance/beacon_id/rotating_id.hpp>
#elif defined(ATTENDANCE_COMPONENT_batch_client)
#include <attendance/batch_client/endpoint.hpp>
#elif defined(ATTENDANCE_COMPONENT_http_server)
#include <attendance/http_server/utf8_params.hpp>
#elif defined(ATTENDANCE_COMPONENT_core)
#include <attendance/core/batch.hpp>
#elif defined(ATTENDANCE_COMPONENT_jsonl_log)
#include <attendance/jsonl_log/check_in.hpp>
#endif
#include <attendance/support/uuid.hpp>

int main() {
  namespace a = attendance;
  const auto id = a::support::Uuid::parse("a1b2c3d4-e5f6-4a5b-8c7d-9e0f1a2b3c4d");
  if (!id) return 1;
#if defined(ATTENDANCE_COMPONENT_ble_scan)
  // An iBeacon frame as BlueZ reports ManufacturerData[0x004C].
  std::vector<std::uint8_t> frame{0x02, 0x15};
  frame.insert(frame.end(), id->bytes.begin(), id->bytes.end());
  frame.insert(frame.end(), {0x00, 0x01, 0x00, 0x02, 0xc5});
  const auto c = a::ble_scan::parseManufacturerData(0x004C, frame, a::ble_scan::ParserOptions{});
  if (!c || c->bleUuid != *id) return 2;
  if (!c->ibeacon || c->ibeacon->major != 1 || c->ibeacon->minor != 2) return 3;
  // An iPhone with the app in the background: no id, and the reason says so.
  std::vector<std::uint8_t> overflow(17, 0x00);
  overflow[0] = 0x01;
  const auto bg = a::ble_scan::parseManufacturerData(0x004C, overflow, a::ble_scan::ParserOptions{});
  if (bg || bg.ignored() != a::ble_scan::IgnoredReason::apple_overflow_area) return 4;
#elif defined(ATTENDANCE_COMPONENT_beacon_id)
  // Vector 1 of docs/beacon-spec.md: libsodium's HMAC is really linked.
  const auto key =
      a::beacon_id::IdentityKey::parseHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  const auto ns = a::support::BleNamespace::parseHex("edd1ebeac04e5defa017");
  if (!key || !ns) return 2;
  const auto rotating = a::beacon_id::bleUuidAt(*key, *ns, a::beacon_id::RotationPeriod{}, 1721471400000);
  if (!rotating || rotating->toString() != "edd1ebea-c04e-5def-a017-1b413700621c") return 3;
  if (a::beacon_id::eddystoneUidAdvertisingData(*rotating).size() != 31) return 4;
#elif defined(ATTENDANCE_COMPONENT_batch_client)
  const auto e = a::batch_client::parseEndpoint("https://attendance.example.org/api", false);
  if (!e) return 2;
#elif defined(ATTENDANCE_COMPONENT_http_server)
  if (!a::http_server::invalidUtf8InQuery("q=%FF")) return 2;
#elif defined(ATTENDANCE_COMPONENT_core)
  const std::string body = R"({"eventId":"ev-1","records":[{"bleUuid":")" + id->toString() +
                           R"(","checkInTime":1721471400000,"scannerId":"s1"}]})";
  if (!a::core::parseBatchBody(body).ok()) return 2;
#elif defined(ATTENDANCE_COMPONENT_jsonl_log)
  a::jsonl_log::CheckIn r;
  r.bleUuid = *id;
  r.scannerId = "s1";
  r.eventId = "ev-1";
  std::string line = a::jsonl_log::formatLine(r);
  line.pop_back();  // the newline
  if (!a::jsonl_log::parseLine(line)) return 2;
#endif
  std::puts("component consumer ok");
  return 0;
}
