#include "backend.hpp"

int main(int argc, char** argv) { return attendance::backend::runCli(argc, argv); }
