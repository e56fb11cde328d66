#include "html.hpp"

#include <algorithm>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

#include <attendance/http_server/utf8_params.hpp>
#include <attendance/support/utf8.hpp>

namespace attendance::admin_web {

void appendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  appendEscaped(out, text);
  return out;
}

std::string renderTemplate(std::string_view tpl, const TemplateValues& values) {
  std::string out;
  out.reserve(tpl.size() * 2);
  std::size_t pos = 0;
  while (true) {
    const std::size_t open = tpl.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(tpl.substr(pos));
      break;
    }
    out.append(tpl.substr(pos, open - pos));
    const bool raw = tpl.substr(open, 3) == "{{{";
    const std::string_view close = raw ? "}}}" : "}}";
    const std::size_t nameStart = open + (raw ? 3 : 2);
    const std::size_t end = tpl.find(close, nameStart);
    if (end == std::string_view::npos) throw std::logic_error("unterminated template placeholder");
    const std::string_view name = tpl.substr(nameStart, end - nameStart);
    const auto it = std::find_if(values.begin(), values.end(), [&](const auto& kv) { return kv.first == name; });
    if (it == values.end()) throw std::logic_error("template placeholder without a value: " + std::string(name));
    if (raw) {
      out.append(it->second);
    } else {
      appendEscaped(out, it->second);
    }
    pos = end + close.size();
  }
  return out;
}

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool formDecode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hexValue(in[i + 1]);
      const int lo = hexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

}  // namespace

Outcome<FormFields> parseForm(std::string_view body) {
  const auto refused = [](std::string why) {
    return Failure{std::make_error_code(std::errc::invalid_argument), std::move(why)};
  };
  FormFields out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t amp = body.find('&', pos);
    if (amp == std::string_view::npos) amp = body.size();
    const std::string_view pair = body.substr(pos, amp - pos);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      std::string key;
      std::string value;
      if (!formDecode(pair.substr(0, eq), key)) {
        return refused("the form has a malformed %-escape in a field name");
      }
      if (!support::isValidUtf8(key)) {
        return refused("a field name is not valid UTF-8");
      }
      if (eq != std::string_view::npos && !formDecode(pair.substr(eq + 1), value)) {
        return refused("field " + http_server::clientNameForMessage(key) + " has a malformed %-escape");
      }
      if (!support::isValidUtf8(value)) {
        return refused("field " + http_server::clientNameForMessage(key) + " is not valid UTF-8");
      }
      out.emplace(std::move(key), std::move(value));
    }
    pos = amp + 1;
  }
  return out;
}

std::string formValue(const FormFields& form, std::string_view name) {
  const auto it = form.find(name);
  return it == form.end() ? std::string{} : it->second;
}

std::string_view cookieValue(std::string_view header, std::string_view name) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t semi = header.find(';', pos);
    if (semi == std::string_view::npos) semi = header.size();
    std::string_view part = header.substr(pos, semi - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const std::size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      std::string_view v = part.substr(eq + 1);
      while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      return v;
    }
    pos = semi + 1;
  }
  return {};
}

std::string urlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// One field of a form: label, input and, when it was refused, the message right
// after the input, tied to it by aria-describedby.
std::string formField(std::string_view id, std::string_view name, std::string_view label, std::string_view input,
                      std::string_view value, const FieldErrors* errors) {
  const std::string* message = nullptr;
  if (errors != nullptr) {
    if (auto it = errors->find(name); it != errors->end()) message = &it->second;
  }
  std::string out = fmt::format("<div class=\"field{}\"><label for=\"{}\">{}</label><input id=\"{}\" name=\"{}\" {}",
                                message ? " invalid" : "", id, label, id, name, input);
  if (!value.empty()) out += fmt::format(" value=\"{}\"", escape(value));
  if (message) out += fmt::format(" aria-invalid=\"true\" aria-describedby=\"{}-error\"", id);
  out += ">";
  if (message) out += fmt::format("<p class=\"field-error\" id=\"{}-error\">{}</p>", id, escape(*message));
  out += "</div>";
  return out;
}

std::string setCookieValue(std::string_view name, std::string_view value, std::int64_t maxAge,
                           std::string_view sameSite, bool secure) {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite={}{}", name, value, maxAge, sameSite,
                     secure ? "; Secure" : "");
}

std::string flash(FlashKind kind, std::string_view text) {
  const char* cls = kind == FlashKind::ok ? "alert-ok" : kind == FlashKind::warn ? "alert-warn" : "alert-error";
  return fmt::format("<div class=\"alert {}\" role=\"{}\">{}</div>", cls, kind == FlashKind::error ? "alert" : "status",
                     escape(text));
}

std::string noticeFor(std::span<const Notice> notices, std::string_view code) {
  for (const Notice& n : notices) {
    if (n.code == code) return flash(n.kind, n.text);
  }
  return {};
}

}  // namespace attendance::admin_web
