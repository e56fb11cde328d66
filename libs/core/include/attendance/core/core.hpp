#pragma once

// Everything core offers (namespace attendance::core).
#include <attendance/core/admin_accounts.hpp>
#include <attendance/core/assignments.hpp>
#include <attendance/core/batch.hpp>
#include <attendance/core/check_in_overrides.hpp>
#include <attendance/core/database.hpp>
#include <attendance/core/deployment.hpp>
#include <attendance/core/error.hpp>
#include <attendance/core/events.hpp>
#include <attendance/core/login_limits.hpp>
#include <attendance/core/migrations.hpp>
#include <attendance/core/participant_data.hpp>
#include <attendance/core/registration.hpp>
#include <attendance/core/report.hpp>
#include <attendance/core/report_cache.hpp>
#include <attendance/core/report_query.hpp>
#include <attendance/core/scanners.hpp>
#include <attendance/core/users.hpp>
