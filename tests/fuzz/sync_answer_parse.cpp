#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sync/batch.hpp"
#include "sync/checkpoint.hpp"

// Inputs attendance-sync reads from outside: the backend's /batchCheckIn answer and
// its own checkpoint file (which anyone with access to the disk can edit).
// Properties: no crash; an accepted answer's counts add up; an accepted checkpoint
// formats and parses back to itself and never points past its recorded size.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto ack = attendance::sync::parseBatchAck(text)) {
    if (ack->inserted + ack->duplicates + ack->rejected.size() != ack->received) __builtin_trap();
  }
  (void)attendance::sync::serverErrorText(text);
  if (auto cp = attendance::sync::parseCheckpoint(text)) {
    if (cp->offset > cp->log.size || cp->nextLine == 0) __builtin_trap();
    auto again = attendance::sync::parseCheckpoint(attendance::sync::formatCheckpoint(*cp));
    if (!again || !(*again == *cp)) __builtin_trap();
  }
  return 0;
}
