// main.cpp - the `vmafuzz` executable: repro/cli.h does the work.
#include <iostream>
#include <string>
#include <vector>

#include "repro/cli.h"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return vmafuzz::repro::cli_main(args, std::cout, std::cerr);
}
