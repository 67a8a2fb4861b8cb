// Tests of the SDK's CSV reader: RFC 4180 quoting, byte-order mark, CRLF, blank lines, the
// line number each row starts on, and the "line N: …" errors for malformed input.
#include "hub/sdk/csv.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace hub::sdk {
namespace {

namespace fs = std::filesystem;
using Fields = std::vector<std::string>;

CsvTable parse_ok(std::string_view text) {
  std::string error;
  auto t = parse_csv(text, &error);
  if (!t) {
    ADD_FAILURE() << "unexpected error: " << error;
    return {};
  }
  return *t;
}

std::string parse_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_csv(text, &error).has_value()) << "expected an error";
  return error;
}

std::vector<std::size_t> lines(const CsvTable& t) {
  std::vector<std::size_t> out;
  for (const auto& r : t.rows) out.push_back(r.line);
  return out;
}

TEST(Csv, HeaderAndRowsWithLineNumbers) {
  const CsvTable t = parse_ok("household_id,village\nV01-00001,V01\nV01-00002,V02\n");
  EXPECT_EQ(t.header, (Fields{"household_id", "village"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"V01-00001", "V01"}));
  EXPECT_EQ(t.rows[1].fields, (Fields{"V01-00002", "V02"}));
  EXPECT_EQ(lines(t), (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(t.column("village"), 1u);
  EXPECT_EQ(t.column("household_id"), 0u);
  EXPECT_FALSE(t.column("Village").has_value());
}

TEST(Csv, LastRowWithoutNewline) {
  const CsvTable t = parse_ok("a,b\n1,2");
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"1", "2"}));
}

TEST(Csv, EmptyFieldsAreKept) {
  const CsvTable t = parse_ok("a,b,c\n,,\n1,,3\n,2,\n");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"", "", ""}));
  EXPECT_EQ(t.rows[1].fields, (Fields{"1", "", "3"}));
  EXPECT_EQ(t.rows[2].fields, (Fields{"", "2", ""}));
}

TEST(Csv, QuotedFields) {
  const CsvTable t = parse_ok(
      "name,note\n"
      "\"Zhang, San\",\"said \"\"hi\"\"\"\n"
      "\"\",\"\"\"\"\n"
      "\"张三\",plain\n");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"Zhang, San", "said \"hi\""}));
  EXPECT_EQ(t.rows[1].fields, (Fields{"", "\""}));
  EXPECT_EQ(t.rows[2].fields, (Fields{"张三", "plain"}));
}

TEST(Csv, QuotedNewlinesShiftTheLinesOfLaterRows) {
  const CsvTable t = parse_ok(
      "id,text\n"       // 1
      "1,\"two\n"       // 2
      "lines\"\n"       // 3
      "2,one\n"         // 4
      "3,\"a\n\nb\n\"\n"  // 5-8
      "4,x\n");         // 9
  EXPECT_EQ(lines(t), (std::vector<std::size_t>{2, 4, 5, 9}));
  EXPECT_EQ(t.rows[0].fields[1], "two\nlines");
  EXPECT_EQ(t.rows[2].fields[1], "a\n\nb\n");
}

TEST(Csv, BlankLinesAreSkippedButCounted) {
  const CsvTable t = parse_ok("\n\na,b\n\n1,2\n\n\n3,4\n\n");
  EXPECT_EQ(t.header, (Fields{"a", "b"}));
  EXPECT_EQ(lines(t), (std::vector<std::size_t>{5, 8}));
}

TEST(Csv, ByteOrderMarkIsSkipped) {
  const CsvTable t = parse_ok("\xEF\xBB\xBFhousehold_id,village\nV01-00001,V01\n");
  EXPECT_EQ(t.header[0], "household_id");
  EXPECT_TRUE(t.column("household_id").has_value());
  EXPECT_EQ(lines(t), (std::vector<std::size_t>{2}));
  // Only at the very start.
  const CsvTable mid = parse_ok("a\n\xEF\xBB\xBFx\n");
  EXPECT_EQ(mid.rows.at(0).fields[0], "\xEF\xBB\xBFx");
}

TEST(Csv, CrlfLineEnds) {
  const CsvTable t = parse_ok("a,b\r\n1,2\r\n\r\n3,\"x\r\ny\"\r\n4,5");
  EXPECT_EQ(t.header, (Fields{"a", "b"}));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].fields, (Fields{"1", "2"}));
  EXPECT_EQ(t.rows[1].fields[0], "3");
  EXPECT_EQ(t.rows[2].fields, (Fields{"4", "5"}));
  EXPECT_EQ(lines(t), (std::vector<std::size_t>{2, 4, 6}));
  for (const auto& r : t.rows)
    for (const auto& f : r.fields) EXPECT_TRUE(f.empty() || f.back() != '\r') << "a field kept its line end";
}

TEST(Csv, RaggedRowNamesItsLine) {
  EXPECT_EQ(parse_error("a,b\n1,2\n\n1,2,3\n"), "line 4: 3 fields, the header has 2");
  EXPECT_EQ(parse_error("a,b\n1\n"), "line 2: 1 fields, the header has 2");
  EXPECT_EQ(parse_error("a,b\n1,\"multi\nline\"\n5\n"), "line 4: 1 fields, the header has 2");
  // The last row, without a newline, too.
  EXPECT_EQ(parse_error("a,b\n1,2\n3"), "line 3: 1 fields, the header has 2");
}

TEST(Csv, UnterminatedQuoteNamesTheLineTheRowStarted) {
  EXPECT_EQ(parse_error("a,b\n1,2\n3,\"open\nmore\nstill open\n"), "line 3: unterminated quoted field");
}

TEST(Csv, QuoteInsideAnUnquotedField) {
  EXPECT_EQ(parse_error("a,b\n1,ab\"c\"\n"), "line 2: a quote inside an unquoted field");
  EXPECT_EQ(parse_error("a,b\n1,2\n\n3, \"x\"\n"), "line 4: a quote inside an unquoted field");
}

TEST(Csv, NoHeader) {
  EXPECT_EQ(parse_error(""), "line 1: no header row");
  EXPECT_EQ(parse_error("\n\n\r\n"), "line 1: no header row");
  EXPECT_EQ(parse_error("\xEF\xBB\xBF"), "line 1: no header row");
}

TEST(Csv, HeaderOnly) {
  const CsvTable t = parse_ok("a,b,c\n");
  EXPECT_EQ(t.header.size(), 3u);
  EXPECT_TRUE(t.rows.empty());
}

TEST(Csv, NullErrorPointer) {
  EXPECT_FALSE(parse_csv("a,b\n1\n", nullptr).has_value());
  EXPECT_TRUE(parse_csv("a,b\n1,2\n", nullptr).has_value());
}

TEST(Csv, ReadFileNamesTheFileInErrors) {
  std::random_device rd;
  const fs::path dir = fs::temp_directory_path() / ("hub-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
  fs::create_directories(dir);
  const std::string good = (dir / "good.csv").string();
  const std::string bad = (dir / "bad.csv").string();
  std::ofstream(good, std::ios::binary) << "\xEF\xBB\xBFid,name\r\n1,\"a,b\"\r\n";
  std::ofstream(bad, std::ios::binary) << "id,name\n1\n";

  std::string error;
  const auto t = read_csv_file(good, &error);
  ASSERT_TRUE(t.has_value()) << error;
  EXPECT_EQ(t->header, (Fields{"id", "name"}));
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(t->rows[0].fields, (Fields{"1", "a,b"}));

  EXPECT_FALSE(read_csv_file(bad, &error).has_value());
  EXPECT_EQ(error, bad + ": line 2: 1 fields, the header has 2");

  const std::string missing = (dir / "missing.csv").string();
  EXPECT_FALSE(read_csv_file(missing, &error).has_value());
  EXPECT_EQ(error, missing + ": cannot open");

  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace hub::sdk
