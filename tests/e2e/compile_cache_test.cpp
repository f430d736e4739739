// The compile cache and multi-file submissions through a real daemon: one compile for many
// inputs (also when the requests arrive together), a miss for any change to the submission, a
// cache that survives a restart, that jobs can neither see nor change, and that can be turned
// off; and per language, a submission of several files with command-line arguments.
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <ostream>
#include <thread>

#include "tests/e2e/daemon_process.hpp"

namespace sbx::testing {
namespace {

namespace fs = std::filesystem;

protocol::RunRequest c_program(const std::string& body) {
    protocol::RunRequest req;
    req.language = "c";
    req.source = "#include <stdio.h>\nint main(void) {\n" + body + "\n}\n";
    return req;
}

TEST(CompileCacheE2E, ManyInputsAtOnceCompileOnce) {
    DaemonProcess daemon({.extra_args = {"--max-jobs", "4"}});
    std::mutex mu;
    std::vector<protocol::RunResult> results;
    std::vector<std::thread> clients;
    for (int i = 0; i < 6; ++i) {
        clients.emplace_back([&, i] {
            auto req = c_program("int x; if (scanf(\"%d\", &x) != 1) return 1; printf(\"%d\\n\", x * x); return 0;");
            req.stdin_data = std::to_string(i) + "\n";
            auto r = run_job(daemon, req);
            std::lock_guard lock(mu);
            EXPECT_EQ(r.run.stdout_data, std::to_string(i * i) + "\n");
            results.push_back(std::move(r));
        });
    }
    for (auto& t : clients) t.join();
    int compiled = 0;
    for (const auto& r : results) {
        ASSERT_TRUE(r.compile);
        EXPECT_EQ(r.compile->status, "ok");
        if (!r.compile->cached) ++compiled;
    }
    EXPECT_EQ(compiled, 1) << "the others waited for the first compile and took its result";
}

TEST(CompileCacheE2E, AnyChangeToTheSubmissionCompilesAgain) {
    DaemonProcess daemon;
    auto req = c_program("puts(GREETING);");
    req.files.push_back({"greeting.h", "", false});
    req.source = "#include <stdio.h>\n#include \"greeting.h\"\n#ifndef GREETING\n#define GREETING \"one\"\n#endif\n"
                 "int main(void) { puts(GREETING); }\n";
    auto first = run_job(daemon, req);
    EXPECT_EQ(first.run.stdout_data, "one\n");
    EXPECT_FALSE(first.compile->cached);
    EXPECT_TRUE(run_job(daemon, req).compile->cached);
    // A header that changes the program: compiled again, and the new output shows it.
    req.files[0].content = "#define GREETING \"two\"\n";
    auto changed = run_job(daemon, req);
    EXPECT_FALSE(changed.compile->cached);
    EXPECT_EQ(changed.run.stdout_data, "two\n");
    // Stdin, arguments and run limits are not part of the compile: still cached.
    req.stdin_data = "ignored";
    req.args = {"x"};
    req.limits.memory_bytes = 128ull << 20;
    EXPECT_TRUE(run_job(daemon, req).compile->cached);
    // The request's environment reaches the compiler, so it is part of the key.
    req.env["CPATH"] = "/nonexistent";
    EXPECT_FALSE(run_job(daemon, req).compile->cached);
}

TEST(CompileCacheE2E, SurvivesARestartOfTheDaemon) {
    DaemonProcess daemon;
    auto req = c_program("puts(\"persisted\");");
    EXPECT_FALSE(run_job(daemon, req).compile->cached);
    daemon.stop();
    daemon.start();
    auto again = run_job(daemon, req);
    ASSERT_TRUE(again.compile);
    EXPECT_TRUE(again.compile->cached);
    EXPECT_EQ(again.run.stdout_data, "persisted\n");
}

// Adversarial: a job sees neither the cache nor other jobs' copies of it, and what it does to
// the files it got from the cache stays in its own workspace.
TEST(CompileCacheE2E, JobsCannotReachOrChangeTheCache) {
    DaemonProcess daemon;
    auto req = c_program("puts(\"genuine\"); return 0;");
    run_job(daemon, req);
    // The cache directory on the host is not in the jail at all.
    protocol::RunRequest look;
    look.argv = {"/bin/sh", "-c", "ls -la " + daemon.dir() + "/cache/compile; ls /var/cache/sandboxd"};
    auto seen = run_job(daemon, look);
    EXPECT_EQ(seen.run.status, "runtime_error") << seen.run.stdout_data;
    EXPECT_EQ(seen.run.stdout_data, "");
    // A program that replaces itself in its workspace while it runs: the cache keeps what the
    // compile stage produced, never what a run stage did to it.
    protocol::RunRequest evil = req;
    evil.source = "#include <stdio.h>\n#include <stdlib.h>\nint main(void) {\n  puts(\"genuine run\"); fflush(stdout);\n"
                  "  remove(\"main\");\n  FILE *f = fopen(\"main\", \"w\");\n"
                  "  fputs(\"#!/bin/sh\\necho tampered\\n\", f);\n  fclose(f);\n"
                  "  return system(\"chmod 755 main && ./main\");\n}\n";
    auto first = run_job(daemon, evil);
    EXPECT_EQ(first.run.stdout_data, "genuine run\ntampered\n") << first.run.stderr_data;
    auto second = run_job(daemon, evil);
    EXPECT_TRUE(second.compile->cached);
    EXPECT_EQ(second.run.stdout_data, "genuine run\ntampered\n");
    EXPECT_EQ(run_job(daemon, req).run.stdout_data, "genuine\n");
    // Entry files are root's alone.
    for (const auto& entry : fs::directory_iterator(daemon.dir() + "/cache/compile")) {
        EXPECT_EQ(entry.status().permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none)
            << entry.path();
    }
}

TEST(CompileCacheE2E, SizeZeroTurnsItOff) {
    DaemonProcess daemon({.extra_args = {"--compile-cache-size", "0"}});
    auto req = c_program("puts(\"x\");");
    EXPECT_FALSE(run_job(daemon, req).compile->cached);
    EXPECT_FALSE(run_job(daemon, req).compile->cached);
    EXPECT_FALSE(fs::exists(daemon.dir() + "/cache/compile"));
}

// ---- several files and command-line arguments, per language -----------------------------------

struct MultiFileCase {
    std::string language;
    std::string main;  // prints the helper's greeting, then each argument on its own line
    std::vector<std::pair<std::string, std::string>> files;
};

void PrintTo(const MultiFileCase& c, std::ostream* os) { *os << c.language; }

const std::vector<MultiFileCase>& multi_file_cases() {
    static const std::vector<MultiFileCase> all = {
        {"c", "#include <stdio.h>\n#include \"util.h\"\nint main(int argc, char **argv) {\n  puts(greeting());\n  for (int i = 1; i < argc; i++) puts(argv[i]);\n}\n",
         {{"util.h", "const char *greeting(void);\n"}, {"util.c", "#include \"util.h\"\nconst char *greeting(void) { return \"hi from helper\"; }\n"}}},
        {"cpp", "#include <iostream>\n#include \"util.hpp\"\nint main(int argc, char **argv) {\n  std::cout << greeting() << '\\n';\n  for (int i = 1; i < argc; i++) std::cout << argv[i] << '\\n';\n}\n",
         {{"util.hpp", "#include <string>\nstd::string greeting();\n"}, {"util.cpp", "#include \"util.hpp\"\nstd::string greeting() { return \"hi from helper\"; }\n"}}},
        {"java", "public class Main {\n  public static void main(String[] args) {\n    System.out.println(Helper.greeting());\n    for (String a : args) System.out.println(a);\n  }\n}\n",
         {{"Helper.java", "public class Helper { static String greeting() { return \"hi from helper\"; } }\n"}}},
        {"go", "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\tfmt.Println(greeting())\n\tfor _, a := range os.Args[1:] {\n\t\tfmt.Println(a)\n\t}\n}\n",
         {{"helper.go", "package main\n\nfunc greeting() string { return \"hi from helper\" }\n"}}},
        {"rust", "mod helper;\nfn main() {\n    println!(\"{}\", helper::greeting());\n    for a in std::env::args().skip(1) {\n        println!(\"{}\", a);\n    }\n}\n",
         {{"helper.rs", "pub fn greeting() -> &'static str { \"hi from helper\" }\n"}}},
        {"python", "import sys\nimport helper\nprint(helper.greeting())\nfor a in sys.argv[1:]:\n    print(a)\n",
         {{"helper.py", "def greeting():\n    return 'hi from helper'\n"}}},
        {"pypy", "import sys\nimport helper\nprint(helper.greeting())\nfor a in sys.argv[1:]:\n    print(a)\n",
         {{"helper.py", "def greeting():\n    return 'hi from helper'\n"}}},
        {"javascript", "const h = require('./helper');\nconsole.log(h.greeting());\nfor (const a of process.argv.slice(2)) console.log(a);\n",
         {{"helper.js", "exports.greeting = () => 'hi from helper';\n"}}},
        {"typescript", "import { greeting } from './helper';\ndeclare var process: any;\nconsole.log(greeting());\nfor (const a of process.argv.slice(2)) console.log(a);\n",
         {{"helper.ts", "export function greeting(): string { return 'hi from helper'; }\n"}}},
        {"csharp", "class P {\n  static void Main(string[] args) {\n    System.Console.WriteLine(Helper.Greeting());\n    foreach (var a in args) System.Console.WriteLine(a);\n  }\n}\n",
         {{"helper.cs", "static class Helper { public static string Greeting() { return \"hi from helper\"; } }\n"}}},
        {"d", "import std.stdio;\nimport helper;\nvoid main(string[] args) {\n  writeln(greeting());\n  foreach (a; args[1 .. $]) writeln(a);\n}\n",
         {{"helper.d", "module helper;\nstring greeting() { return \"hi from helper\"; }\n"}}},
        {"haskell", "import Helper (greeting)\nimport System.Environment (getArgs)\nmain :: IO ()\nmain = do\n  putStrLn greeting\n  getArgs >>= mapM_ putStrLn\n",
         {{"Helper.hs", "module Helper (greeting) where\ngreeting :: String\ngreeting = \"hi from helper\"\n"}}},
        {"kotlin", "fun main(args: Array<String>) {\n  println(greeting())\n  args.forEach { println(it) }\n}\n",
         {{"helper.kt", "fun greeting() = \"hi from helper\"\n"}}},
        {"scala", "object Main {\n  def main(args: Array[String]): Unit = {\n    println(Helper.greeting)\n    args.foreach(println)\n  }\n}\n",
         {{"helper.scala", "object Helper { def greeting = \"hi from helper\" }\n"}}},
        {"nim", "import os, helper\necho greeting()\nfor a in commandLineParams(): echo a\n",
         {{"helper.nim", "proc greeting*(): string = \"hi from helper\"\n"}}},
        {"ocaml", "let () =\n  print_endline (Helper.greeting ());\n  Array.iteri (fun i a -> if i > 0 then print_endline a) Sys.argv\n",
         {{"helper.ml", "let greeting () = \"hi from helper\"\n"}}},
        {"fortran", "program main\n  use helper\n  implicit none\n  integer :: i\n  character(len=100) :: a\n  print '(A)', greeting()\n  do i = 1, command_argument_count()\n    call get_command_argument(i, a)\n    print '(A)', trim(a)\n  end do\nend program main\n",
         {{"helper.f90", "module helper\ncontains\n  function greeting() result(s)\n    character(len=14) :: s\n    s = 'hi from helper'\n  end function greeting\nend module helper\n"}}},
        {"pascal", "program Main;\nuses Helper;\nvar i: integer;\nbegin\n  writeln(Greeting);\n  for i := 1 to ParamCount do writeln(ParamStr(i));\nend.\n",
         {{"helper.pas", "unit Helper;\ninterface\nfunction Greeting: string;\nimplementation\nfunction Greeting: string;\nbegin\n  Greeting := 'hi from helper';\nend;\nend.\n"}}},
        {"erlang", "-module(main).\n-export([main/1]).\nmain(Args) ->\n    io:format(\"~s~n\", [helper:greeting()]),\n    [io:format(\"~s~n\", [A]) || A <- Args].\n",
         {{"helper.erl", "-module(helper).\n-export([greeting/0]).\ngreeting() -> \"hi from helper\".\n"}}},
        {"ruby", "require_relative 'helper'\nputs greeting\nARGV.each { |a| puts a }\n", {{"helper.rb", "def greeting\n  'hi from helper'\nend\n"}}},
        {"php", "<?php\nrequire 'helper.php';\necho greeting(), \"\\n\";\nforeach (array_slice($argv, 1) as $a) echo $a, \"\\n\";\n",
         {{"helper.php", "<?php\nfunction greeting() { return 'hi from helper'; }\n"}}},
        {"perl", "require './helper.pl';\nprint greeting(), \"\\n\";\nprint \"$_\\n\" for @ARGV;\n", {{"helper.pl", "sub greeting { 'hi from helper' }\n1;\n"}}},
        {"lua", "local h = require('helper')\nprint(h.greeting())\nfor _, a in ipairs(arg) do print(a) end\n",
         {{"helper.lua", "return { greeting = function() return 'hi from helper' end }\n"}}},
        {"bash", "source ./helper.sh\ngreeting\nfor a in \"$@\"; do echo \"$a\"; done\n", {{"helper.sh", "greeting() { echo 'hi from helper'; }\n"}}},
        {"r", "source('helper.r')\ncat(greeting(), '\\n', sep = '')\nfor (a in commandArgs(trailingOnly = TRUE)) cat(a, '\\n', sep = '')\n",
         {{"helper.r", "greeting <- function() 'hi from helper'\n"}}},
        {"tcl", "source helper.tcl\nputs [greeting]\nforeach a $argv { puts $a }\n", {{"helper.tcl", "proc greeting {} { return \"hi from helper\" }\n"}}},
        {"racket", "#lang racket\n(require \"helper.rkt\")\n(displayln (greeting))\n(for ([a (current-command-line-arguments)]) (displayln a))\n",
         {{"helper.rkt", "#lang racket\n(provide greeting)\n(define (greeting) \"hi from helper\")\n"}}},
        {"elixir", "Code.require_file(\"helper.exs\", __DIR__)\nIO.puts(Helper.greeting())\nEnum.each(System.argv(), &IO.puts/1)\n",
         {{"helper.exs", "defmodule Helper do\n  def greeting, do: \"hi from helper\"\nend\n"}}},
        {"scheme", "(load \"helper.scm\")\n(display (greeting))\n(newline)\n(for-each (lambda (a) (display a) (newline)) (cdr (command-line)))\n",
         {{"helper.scm", "(define (greeting) \"hi from helper\")\n"}}},
        {"clojure", "(load-file \"helper.clj\")\n(println (greeting))\n(doseq [a *command-line-args*] (println a))\n",
         {{"helper.clj", "(defn greeting [] \"hi from helper\")\n"}}},
    };
    return all;
}

class MultiFileE2E : public ::testing::TestWithParam<MultiFileCase> {
protected:
    static void SetUpTestSuite() { daemon_ = new DaemonProcess(); }
    static void TearDownTestSuite() {
        delete daemon_;
        daemon_ = nullptr;
    }
    static DaemonProcess* daemon_;
};
DaemonProcess* MultiFileE2E::daemon_ = nullptr;

TEST_P(MultiFileE2E, SeveralFilesAndArguments) {
    const MultiFileCase& c = GetParam();
    protocol::RunRequest req;
    req.language = c.language;
    req.source = c.main;
    for (const auto& [name, content] : c.files) req.files.push_back({name, content, false});
    req.args = {"first arg", "second"};
    auto r = run_job(*daemon_, req);
    EXPECT_EQ(r.run.status, "ok") << r.run.message << "\n" << r.run.stderr_data
                                  << (r.compile ? r.compile->stdout_data + r.compile->stderr_data : "");
    EXPECT_EQ(r.run.stdout_data, "hi from helper\nfirst arg\nsecond\n");
}

INSTANTIATE_TEST_SUITE_P(Shipped, MultiFileE2E, ::testing::ValuesIn(multi_file_cases()),
                         [](const ::testing::TestParamInfo<MultiFileCase>& param) { return param.param.language; });

}  // namespace
}  // namespace sbx::testing
