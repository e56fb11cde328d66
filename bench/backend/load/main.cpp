// attendance-backend-load: the load drivers of issue 9 §3 (bench/backend/load.sh runs them).
//   load          N scanners x M records into one event + R report readers; checks every record stored once
//   under-attack  a normal client's latency without and with each attack of §1, alternating rounds
#include <iostream>

#include <CLI/CLI.hpp>

#include "load_run.hpp"
#include "under_attack.hpp"

int main(int argc, char** argv) {
  using namespace attendance::bench;
  CLI::App app{"Load and latency-under-attack drivers for attendance-backend (loopback only)"};
  app.require_subcommand(1);

  LoadOptions load;
  auto* l = app.add_subcommand("load", "scanners upload into one event while readers poll the report");
  l->add_option("--backend-port", load.backendPort)->required();
  l->add_option("--admin-port", load.adminPort)->required();
  l->add_option("--backend-pid", load.backendPid, "for its peak RSS (VmHWM) and CPU time");
  l->add_option("--admin-pid", load.adminPid);
  l->add_option("--seed", load.seedFile, "attendance-backend-bench-seed's output")->required();
  l->add_option("--event", load.eventId)->required();
  l->add_option("--admin-email", load.adminEmail)->required();
  l->add_option("--admin-password-file", load.adminPasswordFile)->required();
  l->add_option("--database-url", load.databaseUrl, "for the final check (default: the PG* variables)");
  l->add_option("--scanners", load.scanners)->capture_default_str();
  l->add_option("--records", load.records, "per scanner")->capture_default_str();
  l->add_option("--batch-size", load.batchSize, "records per POST (attendance-sync's default)")->capture_default_str();
  l->add_option("--readers", load.readers)->capture_default_str();
  l->add_flag("--one-address", load.oneAddress,
              "every scanner from 127.0.0.1, as behind one NAT (the backend's "
              "per-address cap of 128 connections then answers the rest 429)");
  l->add_option("--reader-pause-ms", load.readerPauseMs)->capture_default_str();
  l->add_option("--unknown-devices", load.unknownDevices)->capture_default_str();
  l->add_option("--timeout", load.timeoutSeconds, "seconds for the whole run")->capture_default_str();
  l->add_option("--request-timeout", load.requestTimeoutSeconds)->capture_default_str();
  l->add_option("--json", load.jsonOut, "write the figures as one JSON object here");

  UnderAttackOptions ua;
  auto* u = app.add_subcommand("under-attack", "a normal client's latency without and with each attack");
  u->add_option("--backend-port", ua.backendPort)->required();
  u->add_option("--admin-port", ua.adminPort)->required();
  u->add_option("--backend-pid", ua.backendPid, "for its CPU time and RSS per round");
  u->add_option("--admin-pid", ua.adminPid);
  u->add_option("--seed", ua.seedFile)->required();
  u->add_option("--event", ua.eventId)->required();
  u->add_option("--admin-email", ua.adminEmail)->required();
  u->add_option("--admin-password-file", ua.adminPasswordFile)->required();
  u->add_option("--pairs", ua.pairs, "A B round pairs per attack")->capture_default_str();
  u->add_option("--round-seconds", ua.roundSeconds)->capture_default_str();
  u->add_option("--ramp-seconds", ua.rampSeconds)->capture_default_str();
  u->add_option("--settle-seconds", ua.settleSeconds)->capture_default_str();
  u->add_option("--batch-records", ua.batchRecords)->capture_default_str();
  u->add_option("--interval-ms", ua.intervalMs)->capture_default_str();
  u->add_option("--only", ua.only, "comma-separated attack names");
  u->add_option("--json", ua.jsonOut, "write every round's figures here");

  CLI11_PARSE(app, argc, argv);
  try {
    if (*l) return runLoad(load);
    return runUnderAttack(ua);
  } catch (const std::exception& e) {
    std::cerr << "attendance-backend-load: " << e.what() << "\n";
    return 1;
  }
}
