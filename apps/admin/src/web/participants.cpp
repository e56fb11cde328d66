// Participants: the list, /api/participants, create, disable, new bleUuid.
#include "console.hpp"

#include <fmt/format.h>

#include <attendance/support/json_text.hpp>

namespace attendance::admin_web {

Response Console::getParticipants(Call& call) { return participantsPage(call, http::status::ok, nullptr); }

Response Console::participantsPage(Call& call, http::status status, const pages::ParticipantForm* refused) {
  pages::ParticipantsView view;
  view.refused = refused;
  view.search = call.search();
  view.pageNo = pageParam(call.rc.request.target());
  view.pageSize = kPageSize;
  auto p = core::listParticipants(pool, view.search, view.pageNo * kPageSize, kPageSize);
  if (!p) return failure(call, p.error());
  view.page = std::move(*p);
  return page(call, status, "Participants", pages::Nav::participants,
              refused != nullptr ? pages::flash(pages::FlashKind::error,
                                                "The participant was not created. Check the fields marked below.")
                                 : noticeFor(pages::notices(), call.query("notice")),
              pages::participants(view, call.session->csrfToken));
}

Response Console::apiParticipants(Call& call) {
  const std::string search = call.search();
  const auto offset = intParam(call.rc.request.target(), "offset", 0, 0, 1'000'000'000);
  const auto limit = intParam(call.rc.request.target(), "limit", 100, 1, 1000);
  auto p = core::listParticipants(pool, search, offset, limit);
  if (!p) return failure(call, p.error());
  std::string out =
      fmt::format("{{\"total\":{},\"offset\":{},\"limit\":{},\"participants\":[", p->total, offset, limit);
  bool first = true;
  for (const auto& u : p->rows) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":";
    support::appendJsonString(out, u.id);
    out += ",\"email\":";
    support::appendJsonString(out, u.email);
    out += ",\"displayName\":";
    support::appendJsonString(out, u.displayName);
    out += ",\"bleUuid\":";
    support::appendJsonString(out, u.bleUuid);
    out += u.disabled ? ",\"disabled\":true}" : ",\"disabled\":false}";
  }
  out += "]}";
  return jsonOut(http::status::ok, std::move(out));
}

Response Console::postParticipants(Call& call) {
  pages::ParticipantForm typed;
  typed.name = call.field("name");
  typed.email = call.field("email");
  core::NewUser user;
  user.email = typed.email;
  user.displayName = typed.name;
  // core's rules, asked per field so each message sits by its own field.
  const core::NewUser nameOnly{.email = "a@example.org", .displayName = typed.name, .password = std::nullopt};
  const core::NewUser emailOnly{.email = typed.email, .displayName = "a", .password = std::nullopt};
  if (core::validateNewUser(nameOnly, options.participantAuth)) {
    typed.errors.emplace("name", "The name must be 1 to 200 characters.");
  }
  if (core::validateNewUser(emailOnly, options.participantAuth)) {
    typed.errors.emplace("email", "Enter an email like name@example.org (one @, no spaces, at most 254 characters).");
  }
  if (typed.errors.empty()) {
    auto created = core::createUser(pool, user, options.participantAuth, now());
    if (created) return redirect("/participants?notice=participant-created&q=" + urlEncode(created->email));
    if (created.error() == core::Errc::conflict) {
      typed.errors.emplace("email", "A participant with that email already exists.");
    } else if (created.error() == core::Errc::invalid_argument) {
      typed.errors.emplace("email", "Enter a name (1 to 200 characters) and a valid email.");
    } else {
      return failure(call, created.error());
    }
  }
  return participantsPage(call, http::status::bad_request, &typed);
}

Response Console::setDisabled(Call& call, bool disabled) {
  auto r = core::setUserDisabled(pool, call.param("id"), disabled);
  if (!r) return failure(call, r.error());
  return redirect(std::string("/participants?notice=") + (disabled ? "participant-disabled" : "participant-enabled"));
}

Response Console::postDisable(Call& call) { return setDisabled(call, true); }

Response Console::postEnable(Call& call) { return setDisabled(call, false); }

Response Console::postRegenerate(Call& call) {
  auto r = core::regenerateBleUuid(pool, call.param("id"));
  if (!r) return failure(call, r.error());
  return redirect("/participants?notice=ble-regenerated");
}

}  // namespace attendance::admin_web
