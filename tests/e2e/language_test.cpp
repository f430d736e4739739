// Every shipped language whose runtime Debian packages, through a real daemon on the shipped
// policy and language files: hello world and an echo of stdin (one program judged on two test
// cases, so it is compiled once), the same program again (compiled languages: from the compile
// cache, nothing compiled), a compile error with the compiler's message (compiled languages), and
// a runtime error. scripts/test.sh installs every runtime (scripts/install-runtimes.sh), so a
// missing one fails here instead of being skipped.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "tests/e2e/daemon_process.hpp"

namespace sbx::testing {
namespace {

using protocol::Reply;

struct LanguageCase {
    std::string language;
    std::string echo;           // prints "hello, world", then every line of stdin
    std::string compile_error;  // compiled languages: refers to an undefined name
    std::string compile_marker; // what the compiler's message must mention
    std::string runtime_error;  // fails at run time (an uncaught error, a crash)
};

const std::vector<LanguageCase>& cases() {
    static const std::vector<LanguageCase> all = {
        {"python", "import sys\nprint('hello, world')\nfor line in sys.stdin:\n    sys.stdout.write(line)\n", "", "",
         "print(1 // 0)\n"},
        {"pypy", "import sys\nprint('hello, world')\nfor line in sys.stdin:\n    sys.stdout.write(line)\n", "", "",
         "raise ValueError('boom')\n"},
        {"javascript", "console.log('hello, world');\nprocess.stdout.write(require('fs').readFileSync(0, 'utf8'));\n",
         "", "", "throw new Error('boom');\n"},
        {"typescript",
         "declare var require: any;\ndeclare var process: any;\nconsole.log('hello, world');\n"
         "const input: string = require('fs').readFileSync(0, 'utf8');\nprocess.stdout.write(input);\n",
         "const n: number = undefined_thing;\nconsole.log(n);\n", "undefined_thing", "throw new Error('boom');\n"},
        {"c", "#include <stdio.h>\nint main(void) {\n  puts(\"hello, world\");\n  int c;\n  while ((c = getchar()) != EOF) putchar(c);\n  return 0;\n}\n",
         "int main(void) { return undefined_thing; }\n", "undefined_thing",
         "int main(void) { volatile int *p = 0; return *p; }\n"},
        {"cpp", "#include <iostream>\nint main() {\n  std::cout << \"hello, world\\n\" << std::cin.rdbuf();\n}\n",
         "int main() { return undefined_thing; }\n", "undefined_thing",
         "#include <stdexcept>\nint main() { throw std::runtime_error(\"boom\"); }\n"},
        {"csharp",
         "using System;\nclass Program {\n  static void Main() {\n    Console.WriteLine(\"hello, world\");\n"
         "    string line;\n    while ((line = Console.ReadLine()) != null) Console.WriteLine(line);\n  }\n}\n",
         "class P { static void Main() { System.Console.WriteLine(undefined_thing); } }\n", "undefined_thing",
         "class P { static void Main() { throw new System.Exception(\"boom\"); } }\n"},
        {"d", "import std.stdio;\nvoid main() {\n  writeln(\"hello, world\");\n  foreach (line; stdin.byLine(KeepTerminator.yes)) write(line);\n}\n",
         "void main() { int x = undefined_thing; }\n", "undefined_thing",
         "void main() { throw new Exception(\"boom\"); }\n"},
        {"go", "package main\n\nimport (\n\t\"fmt\"\n\t\"io\"\n\t\"os\"\n)\n\nfunc main() {\n\tfmt.Println(\"hello, world\")\n\tio.Copy(os.Stdout, os.Stdin)\n}\n",
         "package main\n\nfunc main() { _ = undefined_thing }\n", "undefined_thing",
         "package main\n\nfunc main() { panic(\"boom\") }\n"},
        {"java",
         "import java.io.*;\npublic class Main {\n  public static void main(String[] args) throws IOException {\n"
         "    System.out.println(\"hello, world\");\n    BufferedReader r = new BufferedReader(new InputStreamReader(System.in));\n"
         "    for (String l = r.readLine(); l != null; l = r.readLine()) System.out.println(l);\n  }\n}\n",
         "public class Main { public static void main(String[] a) { int x = undefined_thing; } }\n", "undefined_thing",
         "class Problem { public static void main(String[] a) { throw new RuntimeException(\"boom\"); } }\n"},
        {"kotlin", "fun main() {\n  println(\"hello, world\")\n  while (true) {\n    val l = readLine() ?: break\n    println(l)\n  }\n}\n",
         "fun main() { println(undefined_thing) }\n", "undefined_thing", "fun main() { throw RuntimeException(\"boom\") }\n"},
        {"scala",
         "object Main {\n  def main(args: Array[String]): Unit = {\n    println(\"hello, world\")\n"
         "    scala.io.Source.stdin.getLines().foreach(println)\n  }\n}\n",
         "object Main { def main(a: Array[String]): Unit = println(undefined_thing) }\n", "undefined_thing",
         "object Problem { def main(a: Array[String]): Unit = throw new RuntimeException(\"boom\") }\n"},
        {"clojure", "(println \"hello, world\")\n(doseq [line (line-seq (java.io.BufferedReader. *in*))] (println line))\n", "",
         "", "(throw (Exception. \"boom\"))\n"},
        {"lua", "print('hello, world')\nfor line in io.lines() do print(line) end\n", "", "", "error('boom')\n"},
        {"php", "<?php\necho \"hello, world\\n\";\nwhile (($line = fgets(STDIN)) !== false) echo $line;\n", "", "",
         "<?php\nthrow new Exception('boom');\n"},
        {"perl", "print \"hello, world\\n\";\nprint while <STDIN>;\n", "", "", "die \"boom\\n\";\n"},
        {"r", "cat('hello, world\\n')\nfor (line in readLines(file('stdin'))) cat(line, '\\n', sep = '')\n", "", "",
         "stop('boom')\n"},
        {"ruby", "puts 'hello, world'\nSTDIN.each_line { |l| print l }\n", "", "", "raise 'boom'\n"},
        {"racket", "#lang racket\n(displayln \"hello, world\")\n(for ([line (in-lines)]) (displayln line))\n", "", "",
         "#lang racket\n(error \"boom\")\n"},
        {"rust",
         "use std::io::{self, BufRead};\nfn main() {\n    println!(\"hello, world\");\n"
         "    for line in io::stdin().lock().lines() {\n        println!(\"{}\", line.unwrap());\n    }\n}\n",
         "fn main() { println!(\"{}\", undefined_thing); }\n", "undefined_thing", "fn main() { panic!(\"boom\"); }\n"},
        {"bash", "echo 'hello, world'\nwhile IFS= read -r line; do echo \"$line\"; done\n", "", "",
         "set -e\nfalse\necho unreachable\n"},
        {"haskell", "main :: IO ()\nmain = putStrLn \"hello, world\" >> getContents >>= putStr\n",
         "main = print undefined_thing\n", "undefined_thing", "main :: IO ()\nmain = error \"boom\"\n"},
        {"ocaml",
         "let () =\n  print_endline \"hello, world\";\n  try\n    while true do print_endline (read_line ()) done\n"
         "  with End_of_file -> ()\n",
         "let () = print_int undefined_thing\n", "undefined_thing", "let () = failwith \"boom\"\n"},
        {"common-lisp",
         "(write-line \"hello, world\")\n(loop for line = (read-line *standard-input* nil) while line do (write-line line))\n",
         "", "", "(error \"boom\")\n"},
        {"scheme",
         "(use-modules (ice-9 rdelim))\n(display \"hello, world\")\n(newline)\n(let loop ((line (read-line)))\n"
         "  (unless (eof-object? line) (display line) (newline) (loop (read-line))))\n",
         "", "", "(error \"boom\")\n"},
        {"fortran",
         "program echo\n  implicit none\n  character(len=1000) :: line\n  integer :: ios\n  print '(A)', 'hello, world'\n"
         "  do\n    read (*, '(A)', iostat=ios) line\n    if (ios /= 0) exit\n    print '(A)', trim(line)\n  end do\nend program echo\n",
         "program p\n  implicit none\n  print *, undefined_thing\nend program p\n", "undefined_thing",
         "program p\n  error stop 'boom'\nend program p\n"},
        {"pascal",
         "program Echo;\nvar line: string;\nbegin\n  writeln('hello, world');\n  while not eof do\n  begin\n"
         "    readln(line);\n    writeln(line);\n  end;\nend.\n",
         "program P;\nbegin\n  writeln(undefined_thing);\nend.\n", "undefined_thing",
         "program P;\nvar a, b: integer;\nbegin\n  a := 0;\n  b := 1 div a;\n  writeln(b);\nend.\n"},
        {"cobol",
         "       IDENTIFICATION DIVISION.\n       PROGRAM-ID. ECHOES.\n       DATA DIVISION.\n"
         "       WORKING-STORAGE SECTION.\n       01 WS-LINE PIC X(80).\n       01 WS-EOF PIC X VALUE 'N'.\n"
         "       PROCEDURE DIVISION.\n           DISPLAY \"hello, world\".\n           PERFORM UNTIL WS-EOF = 'Y'\n"
         "               ACCEPT WS-LINE\n                   ON EXCEPTION MOVE 'Y' TO WS-EOF\n"
         "                   NOT ON EXCEPTION DISPLAY FUNCTION TRIM(WS-LINE)\n"
         "               END-ACCEPT\n           END-PERFORM.\n           STOP RUN.\n",
         "       IDENTIFICATION DIVISION.\n       PROGRAM-ID. BROKEN.\n       PROCEDURE DIVISION.\n"
         "           DISPLAY UNDEFINED-THING.\n           STOP RUN.\n",
         "UNDEFINED-THING",
         "       IDENTIFICATION DIVISION.\n       PROGRAM-ID. FAILS.\n       PROCEDURE DIVISION.\n"
         "           MOVE 3 TO RETURN-CODE.\n           STOP RUN.\n"},
        {"tcl", "puts \"hello, world\"\nwhile {[gets stdin line] >= 0} { puts $line }\n", "", "", "error \"boom\"\n"},
        {"elixir", "IO.puts(\"hello, world\")\nIO.stream(:stdio, :line) |> Enum.each(&IO.write/1)\n", "", "",
         "raise \"boom\"\n"},
        {"erlang",
         "-module(main).\n-export([main/1]).\nmain(_) -> io:format(\"hello, world~n\"), loop().\n"
         "loop() -> case io:get_line(\"\") of eof -> ok; Line -> io:put_chars(Line), loop() end.\n",
         "-module(main).\n-export([main/1]).\nmain(_) -> undefined_thing().\n", "undefined_thing",
         "-module(main).\n-export([main/1]).\nmain(_) -> erlang:error(boom).\n"},
        {"prolog",
         ":- initialization(main, main).\nmain :- format(\"hello, world~n\"), copy_lines.\n"
         "copy_lines :- read_line_to_string(user_input, L), ( L == end_of_file -> true ; format(\"~w~n\", [L]), copy_lines ).\n",
         "", "", ":- initialization(main, main).\nmain :- X is 1/0, write(X).\n"},
        {"nim", "echo \"hello, world\"\nfor line in stdin.lines: echo line\n", "echo undefined_thing\n", "undefined_thing",
         "raise newException(ValueError, \"boom\")\n"},
    };
    return all;
}

// Test names and failure messages show the language, not the struct's bytes.
void PrintTo(const LanguageCase& c, std::ostream* os) { *os << c.language; }

std::vector<LanguageCase> compiled_cases() {
    std::vector<LanguageCase> out;
    for (const auto& c : cases())
        if (!c.compile_error.empty()) out.push_back(c);
    return out;
}

class LanguageE2E : public ::testing::TestWithParam<LanguageCase> {
protected:
    static void SetUpTestSuite() { daemon_ = new DaemonProcess(); }
    static void TearDownTestSuite() {
        delete daemon_;
        daemon_ = nullptr;
    }

    static protocol::RunResult run(protocol::RunRequest req) {
        auto client = daemon_->client();
        auto reply = client.call(req);
        EXPECT_TRUE(reply) << reply.error().message();
        if (!reply) return {};
        EXPECT_EQ(reply->kind, Reply::Kind::result) << protocol::to_string(reply->error.code) << ": " << reply->error.message;
        auto r = protocol::decode_result<protocol::RunResult>(*reply);
        EXPECT_TRUE(r);
        return r ? *r : protocol::RunResult{};
    }

    static std::string describe(const protocol::RunResult& r) {
        std::string out = "status " + r.run.status + " (" + r.run.message + ")\nstdout: " + r.run.stdout_data +
                          "\nstderr: " + r.run.stderr_data;
        if (r.compile) out += "\ncompile " + r.compile->status + ": " + r.compile->stdout_data + r.compile->stderr_data;
        for (const auto& t : r.tests)
            out += "\ntest " + t.verdict + ": " + t.run.stdout_data + " | " + t.run.stderr_data + " " + t.run.message;
        return out;
    }

    static DaemonProcess* daemon_;
};
DaemonProcess* LanguageE2E::daemon_ = nullptr;

TEST_P(LanguageE2E, HelloWorldAndStdinEchoCompiledOnceThenFromTheCache) {
    const LanguageCase& c = GetParam();
    protocol::RunRequest req;
    req.language = c.language;
    req.source = c.echo;
    req.tests.push_back({"", "hello, world\n", {}});
    req.tests.push_back({"one\ntwo words\n", "hello, world\none\ntwo words\n", {}});
    req.compare = protocol::CompareMode::exact;
    auto first = run(req);
    EXPECT_EQ(first.run.status, "ok") << describe(first);
    EXPECT_EQ(first.passed, 2u) << describe(first);
    const bool compiled = !c.compile_error.empty();
    EXPECT_EQ(first.compile.has_value(), compiled);
    if (compiled && first.compile) {
        EXPECT_FALSE(first.compile->cached) << describe(first);
    }

    auto again = run(req);
    EXPECT_EQ(again.passed, 2u) << describe(again);
    if (compiled) {
        ASSERT_TRUE(again.compile);
        EXPECT_TRUE(again.compile->cached) << "the second run compiled again";
        EXPECT_EQ(again.compile->status, "ok");
    }
}

class CompiledLanguageE2E : public LanguageE2E {};

TEST_P(CompiledLanguageE2E, CompileErrorCarriesTheCompilersMessage) {
    const LanguageCase& c = GetParam();
    protocol::RunRequest req;
    req.language = c.language;
    req.source = c.compile_error;
    auto r = run(req);
    EXPECT_EQ(r.run.status, "compile_error") << describe(r);
    ASSERT_TRUE(r.compile) << describe(r);
    EXPECT_NE(r.compile->status, "ok");
    EXPECT_FALSE(r.compile->cached);
    const std::string output = r.compile->stdout_data + r.compile->stderr_data;
    EXPECT_NE(output.find(c.compile_marker), std::string::npos) << output;
    // A failed compile is not cached: the same source fails the same way, compiling again.
    auto again = run(req);
    EXPECT_EQ(again.run.status, "compile_error");
    ASSERT_TRUE(again.compile);
    EXPECT_FALSE(again.compile->cached);
}

TEST_P(LanguageE2E, RuntimeErrorIsReportedAsSuch) {
    const LanguageCase& c = GetParam();
    protocol::RunRequest req;
    req.language = c.language;
    req.source = c.runtime_error;
    auto r = run(req);
    EXPECT_TRUE(r.run.status == "runtime_error" || r.run.status == "signaled") << describe(r);
    EXPECT_TRUE(r.run.exit_code != 0 || r.run.signal != 0) << describe(r);
    if (r.compile) {
        EXPECT_EQ(r.compile->status, "ok") << describe(r);
    }
    // As a test case, the same failure is the runtime_error verdict.
    req.tests.push_back({"", "anything\n", {}});
    auto judged = run(req);
    ASSERT_EQ(judged.tests.size(), 1u) << describe(judged);
    EXPECT_EQ(judged.tests[0].verdict, "runtime_error") << describe(judged);
    EXPECT_EQ(judged.passed, 0u);
}

std::string case_name(const ::testing::TestParamInfo<LanguageCase>& info) {
    std::string name = info.param.language;
    for (char& ch : name)
        if (ch == '-') ch = '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(Shipped, LanguageE2E, ::testing::ValuesIn(cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Shipped, CompiledLanguageE2E, ::testing::ValuesIn(compiled_cases()), case_name);

// julia and swift are MultiPL-E languages Debian 12 does not package: listed, unavailable with
// the reason, and refused rather than offered and then failing.
TEST(LanguageAvailability, UnpackagedRuntimesAreListedAsUnavailable) {
    DaemonProcess daemon;
    auto client = daemon.client();
    auto reply = client.call(protocol::LanguagesRequest{});
    ASSERT_TRUE(reply);
    auto languages = protocol::decode_result<protocol::LanguagesResult>(*reply);
    ASSERT_TRUE(languages);
    std::size_t available = 0;
    for (const auto& l : languages->languages) {
        if (l.available) ++available;
        if (l.name == "julia" || l.name == "swift") {
            EXPECT_FALSE(l.available) << l.name;
            EXPECT_NE(l.reason.find("is not installed"), std::string::npos) << l.reason;
        }
    }
    EXPECT_EQ(available, cases().size());  // every other shipped language runs (see above)
    protocol::RunRequest req;
    req.language = "jl";
    req.source = "println(1)\n";
    auto refused = client.call(req);
    ASSERT_TRUE(refused);
    ASSERT_EQ(refused->kind, Reply::Kind::error);
    EXPECT_EQ(protocol::to_string(refused->error.code), "language_unavailable");
    EXPECT_NE(refused->error.message.find("/usr/bin/julia is not installed"), std::string::npos)
        << refused->error.message;
}

}  // namespace
}  // namespace sbx::testing
