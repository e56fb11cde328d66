// attendance::support: ids, JSON text, UTF-8 and structured logs, the kernel every other library uses.
#include <cstdio>
#include <string>

#include <attendance/support/json_text.hpp>
#include <attendance/support/log.hpp>
#include <attendance/support/utf8.hpp>
#include <attendance/support/uuid.hpp>

int main() {
  namespace support = attendance::support;
  // Any case in, canonical lowercase out; anything else is nullopt, never an exception.
  const auto id = support::Uuid::parse("A1B2C3D4-E5F6-4789-8ABC-DEF012345678");
  if (!id || support::Uuid::parse("not-a-uuid")) return 1;

  // Client text is checked before it is stored, and cut only at a character boundary.
  const std::string name = "Zoë Ådahl";
  if (!support::isValidUtf8(name) || support::isValidUtf8("\xC3")) return 2;
  const std::string_view shortName = support::utf8Prefix(name, 3);  // "Zo": never half of "ë"

  std::string json = "{\"bleUuid\":";
  support::appendJsonString(json, id->toString());
  json += ",\"name\":";
  support::appendJsonString(json, shortName);
  json += "}";
  std::puts(json.c_str());  // {"bleUuid":"a1b2c3d4-e5f6-4789-8abc-def012345678","name":"Zo"}

  // One JSON object per line on stderr.
  support::log::info("example.done", {{"bleUuid", id->toString()}, {"bytes", json.size()}});
  return 0;
}
