// An outside project using the installed attendance libraries.
#include <cstdio>

#include "attendance/support/uuid.hpp"

int main() {
  const auto id = attendance::support::Uuid::parse("A1B2C3D4-E5F6-4789-8ABC-DEF012345678");
  if (!id || id->toString() != "a1b2c3d4-e5f6-4789-8abc-def012345678") return 1;
  std::puts("consumer ok");
  return 0;
}
