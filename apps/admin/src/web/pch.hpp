// Private precompiled header: Beast/Asio dominate compile time.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
