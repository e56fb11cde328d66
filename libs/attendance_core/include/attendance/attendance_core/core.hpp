#pragma once

// Everything attendance_core offers (namespace attendance::core).
#include <attendance/attendance_core/admin_accounts.hpp>
#include <attendance/attendance_core/assignments.hpp>
#include <attendance/attendance_core/batch.hpp>
#include <attendance/attendance_core/database.hpp>
#include <attendance/attendance_core/error.hpp>
#include <attendance/attendance_core/events.hpp>
#include <attendance/attendance_core/login_limits.hpp>
#include <attendance/attendance_core/migrations.hpp>
#include <attendance/attendance_core/report.hpp>
#include <attendance/attendance_core/report_cache.hpp>
#include <attendance/attendance_core/report_query.hpp>
#include <attendance/attendance_core/scanners.hpp>
#include <attendance/attendance_core/users.hpp>
