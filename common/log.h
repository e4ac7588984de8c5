#pragma once
// Minimal leveled logging to stderr. The level is process-wide: it is set once from
// --log-level before any thread starts, and only read afterwards.

#include <string_view>

namespace otelbox {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

bool ParseLogLevel(std::string_view text, LogLevel* out);
void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
// One line: "level=info msg=..." (logfmt, like Prometheus' own logs).
void Log(LogLevel level, std::string_view msg);

inline void LogDebug(std::string_view m) { if (LogEnabled(LogLevel::kDebug)) Log(LogLevel::kDebug, m); }
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }

}  // namespace otelbox
