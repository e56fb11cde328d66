// The participant pages of the backend as a site of the shared web security
// suite (tests/support/web_security.hpp): the tests the admin console passes
// (tests/admin/web_security_site.cpp), over the backend's router in process.
#include <stdexcept>

#include <attendance/core/core.hpp>
#include <attendance/core/migrations.hpp>

#include "backend/backend_test_base.hpp"
#include "support/web_security.hpp"
#include "web/participant_web.hpp"

namespace attendance::testing::backend_test {
namespace {

namespace ws = attendance::testing::web_security;

constexpr const char* kEmail = "carol@example.com";
constexpr const char* kPassword = "correct horse";

class ParticipantSite : public ws::Site {
public:
  explicit ParticipantSite(const ws::SiteOptions& o) {
    {
      core::ConnectionPool pool{core::DatabaseConfig{db_.conninfo(), 1, 2000ms, 2}};
      if (auto r = core::migrate(pool); !r) throw std::runtime_error("migrate: " + r.error().message());
    }
    BackendOptions options;
    options.secureCookies = o.secureCookies;
    backend_ = std::make_unique<InProcessBackend>(db_.conninfo(), options);
    traits_ = {.signIn = "/signin",
               .signOut = "/signout",
               .home = "/",
               .sessionCookie = "attendance_participant",
               .sameSite = "Lax",
               .email = kEmail,
               .password = kPassword,
               .failuresPerAccount = core::LoginLimits{}.maxFailuresPerAccount,
               .failuresPerAddress = core::LoginLimits{}.maxFailuresPerAddress,
               .formBodyLimit = attendance::backend::web::kFormBodyLimit};
    withPool([&](core::ConnectionPool& pool) {
      const auto now = this->now();
      auto carol =
          core::createParticipant(pool, core::NewUser{kEmail, "Carol", kPassword}, core::AuthConfig::forTests(), now);
      ASSERT_TRUE(carol) << carol.error().message();
      userId_ = carol->user.id;
      makeEvent(pool, "ev-open", "Open day");
      makeEvent(pool, "ev-mine", "Workshop");
      ASSERT_TRUE(core::registerForEvent(pool, "ev-mine", userId_, now));
    });
  }

  [[nodiscard]] const ws::SiteTraits& traits() const override { return traits_; }
  [[nodiscard]] std::uint16_t port() const override { return backend_->port; }
  void advanceClock(std::chrono::seconds by) override { backend_->clock.advance(by); }

  std::vector<ws::FormPost> forms() override {
    return {{"/signout", {}},
            {"/events/ev-open/register", {}},
            {"/events/ev-mine/unregister", {}},
            {"/account/delete", {{"password", kPassword}}}};
  }

  std::string state() override {
    return db_.scalar(
        "SELECT concat_ws('|', (SELECT string_agg(id::text || email || display_name, ',' ORDER BY id) FROM users),"
        " (SELECT string_agg(event_id || user_id::text, ',' ORDER BY event_id) FROM registrations),"
        " (SELECT count(*) FROM participant_sessions))");
  }

  // The participant's own name and email, and an event's name and venue: what these pages show.
  std::vector<std::string> plantHostileText(const std::string& name, const std::string& email) override {
    withPool([&](core::ConnectionPool& pool) {
      pqxx::connection c{db_.conninfo()};
      pqxx::work tx{c};
      tx.exec_params("UPDATE users SET display_name = $1, email = $2 WHERE id = $3::uuid", name, email, userId_);
      tx.commit();
      makeEvent(pool, "ev-hostile", name);
      ASSERT_TRUE(core::registerForEvent(pool, "ev-hostile", userId_, now()));
    });
    traits_.email = email;
    return {"/", "/account"};
  }

private:
  [[nodiscard]] std::chrono::system_clock::time_point now() const { return backend_->clock.systemTime(); }
  template <class F>
  void withPool(F&& f) {
    core::ConnectionPool pool{core::DatabaseConfig{db_.conninfo(), 1, 2000ms, 2}};
    f(pool);
  }
  void makeEvent(core::ConnectionPool& pool, const std::string& id, const std::string& name) {
    core::NewEvent ev;
    ev.id = id;
    ev.name = name;
    ev.venue = name;
    ev.startsAt = now() + 1h;
    ev.endsAt = now() + 3h;
    ASSERT_TRUE(core::createEvent(pool, ev, now()));
  }

  TestDatabase db_;
  std::unique_ptr<InProcessBackend> backend_;
  ws::SiteTraits traits_;
  std::string userId_;
};

std::unique_ptr<ws::Site> makeParticipantSite(const ws::SiteOptions& o) { return std::make_unique<ParticipantSite>(o); }

}  // namespace
}  // namespace attendance::testing::backend_test

ATTENDANCE_WEB_SECURITY_SUITE(ParticipantPages, ::attendance::testing::backend_test::makeParticipantSite)
