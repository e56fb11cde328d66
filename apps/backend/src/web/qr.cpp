// The participant's id as a QR code, drawn as SVG on the server (libqrencode).
#include <memory>
#include <string>

#include <qrencode.h>

#include <fmt/format.h>

#include "web/participant_web.hpp"

namespace attendance::backend::web {

std::string qrSvg(std::string_view text) {
  const std::string input{text};
  // Level M (15 % of the symbol may be damaged), 8-bit mode, case kept, the smallest version that fits.
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code{
      QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free};
  if (!code) return {};
  const int width = code->width;
  constexpr int kQuiet = 4;  // the quiet zone the standard asks for, in modules
  const int size = width + 2 * kQuiet;
  // One path: a 1x1 square per dark module, merged along each row.
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width;) {
      if ((code->data[y * width + x] & 1) == 0) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (code->data[y * width + x + run] & 1) != 0) ++run;
      path += fmt::format("M{} {}h{}v1h-{}z", x + kQuiet, y + kQuiet, run, run);
      x += run;
    }
  }
  return fmt::format(
      "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" role=\"img\" "
      "aria-label=\"QR code of your id\" shape-rendering=\"crispEdges\"><rect width=\"{0}\" height=\"{0}\" "
      "fill=\"#fff\"/><path fill=\"#000\" d=\"{1}\"/></svg>",
      size, path);
}

}  // namespace attendance::backend::web
