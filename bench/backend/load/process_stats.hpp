#pragma once
// What /proc says about a process (the backend's peak RSS, its CPU time) and
// about the machine (how busy both cores were), so a run can show where the CPU
// went and that the driver was not the bottleneck.

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace attendance::bench {

// A field of /proc/PID/status in KiB (VmHWM = peak RSS, VmRSS = now), or -1.
inline long statusKiB(int pid, const std::string& field) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field + ":")) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// Resets the process's peak RSS (VmHWM) to its current RSS, so a later VmHWM is
// the peak of what came after (Linux >= 4.0; needs the right to write clear_refs).
inline bool resetPeakRss(int pid) {
  std::ofstream out{"/proc/" + std::to_string(pid) + "/clear_refs"};
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// User + system CPU seconds the process has used so far (/proc/PID/stat), or -1.
inline double processCpuSeconds(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  const auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return -1;
  std::istringstream rest{text.substr(close + 2)};
  std::string field;
  long long utime = 0;
  long long stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU seconds this process (the driver) has used so far.
inline double selfCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Busy and total CPU seconds of the whole machine so far (/proc/stat, all cores).
struct MachineCpu {
  double busy = 0;
  double total = 0;
};
inline MachineCpu machineCpu() {
  std::ifstream in{"/proc/stat"};
  std::string cpu;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double busy = static_cast<double>(user + nice + system + irq + softirq + steal);
  return MachineCpu{busy / tick, (busy + static_cast<double>(idle + iowait)) / tick};
}

// CPU seconds so far of the two servers (0 where no pid was given), the driver and
// the machine: two marks around a phase say where its CPU went.
struct CpuMark {
  double backend = 0;
  double admin = 0;
  double driver = 0;
  MachineCpu machine;
};
inline CpuMark cpuMark(int backendPid, int adminPid) {
  return CpuMark{backendPid > 0 ? processCpuSeconds(backendPid) : 0, adminPid > 0 ? processCpuSeconds(adminPid) : 0,
                 selfCpuSeconds(), machineCpu()};
}

}  // namespace attendance::bench
