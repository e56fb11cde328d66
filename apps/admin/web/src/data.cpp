#include "data.hpp"

namespace attendance::admin_web::data {

Result<std::vector<EventSummary>> listEventSummaries(core::ConnectionPool& pool) {
  return core::listEventSummaries(pool);
}

Result<void> updateEvent(core::ConnectionPool& pool, std::string_view id, const EventEdit& edit) {
  auto updated = core::updateEvent(pool, id, edit);
  if (!updated) return updated.error();
  return {};
}

Result<void> deleteEvent(core::ConnectionPool& pool, std::string_view id, bool force) {
  return core::deleteEvent(pool, id, force);
}

Result<int> hasCheckIns(core::ConnectionPool& pool, std::string_view eventId) {
  auto any = core::eventHasCheckIns(pool, eventId);
  if (!any) return any.error();
  return *any ? 1 : 0;
}

Result<Page> listParticipants(core::ConnectionPool& pool, std::string_view search, std::int64_t offset,
                              std::int64_t limit) {
  return core::listParticipants(pool, search, offset, limit);
}

Result<Page> listRegistrations(core::ConnectionPool& pool, std::string_view eventId, std::string_view search,
                               std::int64_t offset, std::int64_t limit) {
  return core::listRegistrations(pool, eventId, search, offset, limit);
}

Result<std::string> userIdByEmail(core::ConnectionPool& pool, std::string_view email) {
  return core::userIdByEmail(pool, email);
}

Result<void> setUserDisabled(core::ConnectionPool& pool, std::string_view userId, bool disabled) {
  return core::setUserDisabled(pool, userId, disabled);
}

}  // namespace attendance::admin_web::data
