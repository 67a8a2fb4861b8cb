// Tests of the import-file reader behind `hubctl import`: the three CSV kinds recognised by
// their header, JSONL, every bad row reported with its exact line number, stable generated
// event ids, and the whole-file checks (conflicting ids, evaluations going back in time).
#include "domain/import_file.h"

#include <gtest/gtest.h>

#include <iconv.h>

#include <string>
#include <vector>

#include "domain/wire_event.h"

namespace hub {
namespace {

using nlohmann::json;

std::vector<std::size_t> issue_lines(const ImportFile& f) {
  std::vector<std::size_t> lines;
  for (const auto& i : f.issues) lines.push_back(i.line);
  return lines;
}

std::vector<std::size_t> row_lines(const ImportFile& f) {
  std::vector<std::size_t> lines;
  for (const auto& r : f.rows) lines.push_back(r.line);
  return lines;
}

std::string describe(const ImportFile& f) {
  std::string out;
  for (const auto& i : f.issues)
    out += "  line " + std::to_string(i.line) + " " + i.code + " (" + i.field + "): " + i.message + "\n";
  return out;
}

ImportFile parse_good(const std::string& name, const std::string& text) {
  ImportFile f = parse_import(name, text);
  EXPECT_TRUE(f.issues.empty()) << describe(f);
  return f;
}

std::string id_of(const ImportFile& f, std::size_t row) { return f.rows.at(row).event.at("event_id"); }

// --- CSV kinds ---------------------------------------------------------------------------------

TEST(ImportCsv, HouseholdsByHeader) {
  const ImportFile f = parse_good("households.csv",
                                  "household_id,village,head,members\n"
                                  "V01-00001,V01,张三,4\n"
                                  "V01-00002, V01 ,,\n");
  EXPECT_EQ(f.kind, "households");
  ASSERT_EQ(f.rows.size(), 2u);
  EXPECT_EQ(row_lines(f), (std::vector<std::size_t>{2, 3}));
  const json& a = f.rows[0].event;
  EXPECT_EQ(a["type"], "household");
  EXPECT_EQ(a["household_id"], "V01-00001");
  EXPECT_EQ(a["village"], "V01");
  EXPECT_EQ(a["head"], "张三");
  EXPECT_EQ(a["members"], 4);
  const json& b = f.rows[1].event;
  EXPECT_EQ(b["village"], "V01") << "fields are trimmed";
  EXPECT_FALSE(b.contains("head"));
  EXPECT_FALSE(b.contains("members"));
  // Every row is a valid wire event.
  for (const auto& r : f.rows) EXPECT_TRUE(parse_event(r.event).ok()) << r.event.dump();
}

TEST(ImportCsv, CommitmentsByHeader) {
  const ImportFile f = parse_good("c.csv", "household_id,signed_on\nV01-00001,2020-04-15\n");
  EXPECT_EQ(f.kind, "commitments");
  ASSERT_EQ(f.rows.size(), 1u);
  EXPECT_EQ(f.rows[0].event["type"], "commitment");
  EXPECT_EQ(f.rows[0].event["signed_on"], "2020-04-15");
}

TEST(ImportCsv, EvaluationsByHeaderWithDesignationsSplitBySemicolon) {
  const ImportFile f = parse_good("eval.csv",
                                  "household_id,status,quarter,effective_date,designations,basis\n"
                                  "V01-00001,credit,2020Q3,,,meeting 3\n"
                                  "V01-00002,non_credit,2020Q3,2020-10-15,assistance; assistance ;,\n"
                                  "V01-00003,breach,2020Q4,,assistance,\n");
  EXPECT_EQ(f.kind, "evaluations");
  ASSERT_EQ(f.rows.size(), 3u);
  const json& a = f.rows[0].event;
  EXPECT_EQ(a["type"], "status_change");
  EXPECT_EQ(a["status"], "credit");
  EXPECT_EQ(a["quarter"], "2020Q3");
  EXPECT_EQ(a["designations"], json::array());
  EXPECT_EQ(a["basis"], "meeting 3");
  EXPECT_FALSE(a.contains("effective_date"));
  const json& b = f.rows[1].event;
  EXPECT_EQ(b["effective_date"], "2020-10-15");
  EXPECT_EQ(b["designations"], json::array({"assistance", "assistance"}));
  EXPECT_FALSE(b.contains("basis"));
  EXPECT_EQ(f.rows[2].event["designations"], json::array({"assistance"}));
}

TEST(ImportCsv, UnknownDesignationIsABadRow) {
  const ImportFile f = parse_import("eval.csv",
                                    "household_id,status,quarter,designations\n"
                                    "V01-00001,credit,2020Q3,assistance;vip\n");
  ASSERT_EQ(f.issues.size(), 1u) << describe(f);
  EXPECT_EQ(f.issues[0].line, 2u);
  EXPECT_EQ(f.issues[0].code, "invalid_designation");
  EXPECT_EQ(f.issues[0].field, "designations");
}

TEST(ImportCsv, StatusWinsOverOtherColumnsAndUnknownHeadersAreReported) {
  EXPECT_EQ(parse_good("x.csv", "household_id,village,status,quarter\nV01-00001,V01,credit,2020Q3\n").kind,
            "evaluations");
  EXPECT_EQ(parse_import("x.csv", "household_id,village,status,quarter\nV01-00001,V01,credit,2020Q3\n")
                .rows.at(0)
                .event.contains("village"),
            false);

  const ImportFile unknown = parse_import("x.csv", "household_id,colour\nV01-00001,red\n");
  ASSERT_EQ(unknown.issues.size(), 1u);
  EXPECT_EQ(unknown.issues[0].code, "unknown_file_kind");
  EXPECT_EQ(unknown.issues[0].line, 1u);
  EXPECT_TRUE(unknown.rows.empty());

  const ImportFile no_id = parse_import("x.csv", "village,status\nV01,credit\n");
  ASSERT_EQ(no_id.issues.size(), 1u);
  EXPECT_EQ(no_id.issues[0].code, "missing_column");
  EXPECT_EQ(no_id.issues[0].field, "household_id");
  EXPECT_EQ(no_id.issues[0].line, 1u);
}

// --- bad rows and line numbers ----------------------------------------------------------------

TEST(ImportCsv, EveryBadRowIsListedWithItsLine) {
  const ImportFile f = parse_import("eval.csv",
                                    "household_id,status,quarter,effective_date\n"  // 1
                                    "V01-00001,credit,2020Q3,\n"                    // 2 ok
                                    "V01-00002,unevaluated,2020Q3,\n"               // 3 invalid_status
                                    "V01-00003,credit,2020Q5,\n"                    // 4 invalid_quarter
                                    "V01-00004,credit,2020Q3,2021-02-29\n"          // 5 invalid_date
                                    "bad id,credit,2020Q3,\n"                       // 6 invalid_field
                                    ",credit,2020Q3,\n"                             // 7 missing_field
                                    "V01-00007,non_credit,2020Q3,\n");              // 8 ok
  EXPECT_EQ(issue_lines(f), (std::vector<std::size_t>{3, 4, 5, 6, 7})) << describe(f);
  ASSERT_EQ(f.issues.size(), 5u);
  EXPECT_EQ(f.issues[0].code, "invalid_status");
  EXPECT_EQ(f.issues[0].field, "status");
  EXPECT_EQ(f.issues[1].code, "invalid_quarter");
  EXPECT_EQ(f.issues[1].field, "quarter");
  EXPECT_EQ(f.issues[2].code, "invalid_date");
  EXPECT_EQ(f.issues[2].field, "effective_date");
  EXPECT_EQ(f.issues[3].code, "invalid_field");
  EXPECT_EQ(f.issues[3].field, "household_id");
  EXPECT_EQ(f.issues[4].code, "missing_field");
  EXPECT_EQ(f.issues[4].field, "household_id");
  for (const auto& i : f.issues) EXPECT_FALSE(i.message.empty());
  EXPECT_EQ(row_lines(f), (std::vector<std::size_t>{2, 8}));
}

TEST(ImportCsv, MultiLineQuotedFieldsAndBlankLinesShiftLaterLineNumbers) {
  const ImportFile f = parse_import("households.csv",
                                    "household_id,village,head,members\n"  // 1
                                    "V01-00001,V01,\"Zhang\n"              // 2
                                    "San, \"\"senior\"\"\",4\n"            // 3
                                    "\n"                                   // 4 blank
                                    "V01-00002,V01,Li,four\n"              // 5 bad members
                                    "\n"                                   // 6 blank
                                    "\n"                                   // 7 blank
                                    "V01-00003,V 01,Wang,3\n"              // 8 bad village
                                    "V01-00004,V01,\"a\nb\nc\",0\n"        // 9-11 bad members (0)
                                    "V01-00005,V01,Zhao,2\n");             // 12 ok
  EXPECT_EQ(issue_lines(f), (std::vector<std::size_t>{5, 8, 9})) << describe(f);
  ASSERT_EQ(f.issues.size(), 3u);
  EXPECT_EQ(f.issues[0].field, "members");
  EXPECT_EQ(f.issues[0].code, "invalid_field");
  EXPECT_NE(f.issues[0].message.find("four"), std::string::npos);
  EXPECT_EQ(f.issues[1].field, "village");
  EXPECT_EQ(f.issues[2].field, "members");
  EXPECT_EQ(row_lines(f), (std::vector<std::size_t>{2, 12}));
  EXPECT_EQ(f.rows[0].event["head"], "Zhang\nSan, \"senior\"");
}

TEST(ImportCsv, BomAndCrlfAreAccepted) {
  const ImportFile f = parse_good("eval.csv",
                                  "\xEF\xBB\xBFhousehold_id,status,quarter\r\n"
                                  "V01-00001,credit,2020Q3\r\n"
                                  "\r\n"
                                  "V01-00002,breach,2020Q3\r\n");
  EXPECT_EQ(f.kind, "evaluations");
  EXPECT_EQ(row_lines(f), (std::vector<std::size_t>{2, 4}));
  EXPECT_EQ(f.rows[1].event["status"], "breach");
}

TEST(ImportCsv, RaggedRowIsReportedWithItsLine) {
  const ImportFile f = parse_import("households.csv",
                                    "household_id,village\n"
                                    "V01-00001,V01\n"
                                    "\n"
                                    "V01-00002,V01,extra\n"
                                    "V01-00003,V01\n");
  ASSERT_FALSE(f.issues.empty());
  EXPECT_EQ(f.issues[0].line, 4u) << describe(f);
  EXPECT_EQ(f.issues[0].code, "invalid_csv");
  EXPECT_NE(f.issues[0].message.find("3 fields"), std::string::npos) << f.issues[0].message;
}

// §4: an invalid file "lists each bad row", ragged rows included.
TEST(ImportCsv, EveryRaggedRowIsListed) {
  const ImportFile f = parse_import("households.csv",
                                    "household_id,village\n"
                                    "V01-00001,V01,extra\n"
                                    "V01-00002\n");
  EXPECT_EQ(issue_lines(f), (std::vector<std::size_t>{2, 3})) << describe(f);
}

TEST(ImportCsv, UnterminatedQuoteNamesTheLineItStarted) {
  const ImportFile f = parse_import("households.csv",
                                    "household_id,village,head\n"
                                    "V01-00001,V01,ok\n"
                                    "V01-00002,V01,\"never closed\n"
                                    "V01-00003,V01,x\n");
  ASSERT_EQ(f.issues.size(), 1u) << describe(f);
  EXPECT_EQ(f.issues[0].code, "invalid_csv");
  EXPECT_EQ(f.issues[0].line, 3u);
}

TEST(ImportCsv, EmptyFiles) {
  const ImportFile empty = parse_import("e.csv", "");
  ASSERT_EQ(empty.issues.size(), 1u);
  EXPECT_TRUE(empty.rows.empty());

  const ImportFile header_only = parse_import("e.csv", "household_id,village\n");
  ASSERT_EQ(header_only.issues.size(), 1u);
  EXPECT_EQ(header_only.issues[0].code, "empty_file");
  EXPECT_EQ(header_only.kind, "households");

  const ImportFile blank_lines = parse_import("e.csv", "household_id,status,quarter\n\n\n");
  ASSERT_EQ(blank_lines.issues.size(), 1u);
  EXPECT_EQ(blank_lines.issues[0].code, "empty_file");
}

TEST(ImportFileKind, UnknownExtension) {
  for (const char* name : {"evaluations.txt", "evaluations.xlsx", "evaluations", "csv"}) {
    const ImportFile f = parse_import(name, "household_id,status,quarter\nV01-00001,credit,2020Q3\n");
    ASSERT_EQ(f.issues.size(), 1u) << name;
    EXPECT_EQ(f.issues[0].code, "unknown_file_kind");
    EXPECT_EQ(f.issues[0].line, 0u);
    EXPECT_TRUE(f.rows.empty());
  }
  EXPECT_EQ(parse_good("EVAL.CSV", "household_id,status,quarter\nV01-00001,credit,2020Q3\n").kind, "evaluations");
  EXPECT_EQ(parse_good("dir.csv/x.ndjson", R"({"type":"household","household_id":"V01-00001","village":"V01"})")
                .kind,
            "jsonl");
  EXPECT_EQ(parse_good("x.json", R"({"type":"household","household_id":"V01-00001","village":"V01"})").kind,
            "jsonl");
}

// --- JSONL ------------------------------------------------------------------------------------

TEST(ImportJsonl, MixedTypesBlankLinesAndCrlf) {
  const ImportFile f = parse_good(
      "q.jsonl",
      "{\"type\":\"household\",\"event_id\":\"reg-1\",\"household_id\":\"V01-00001\",\"village\":\"V01\"}\r\n"
      "\r\n"
      "   \n"
      "{\"type\":\"commitment\",\"household_id\":\"V01-00001\",\"signed_on\":\"2020-04-15\"}\n"
      "{\"type\":\"status_change\",\"household_id\":\"V01-00001\",\"status\":\"credit\",\"quarter\":\"2020Q3\"}");
  EXPECT_EQ(f.kind, "jsonl");
  EXPECT_EQ(row_lines(f), (std::vector<std::size_t>{1, 4, 5}));
  EXPECT_EQ(id_of(f, 0), "reg-1") << "an explicit event_id is kept";
  EXPECT_EQ(id_of(f, 1).rfind("com-V01-00001-", 0), 0u) << id_of(f, 1);
  EXPECT_EQ(id_of(f, 2).rfind("ev-2020Q3-V01-00001-", 0), 0u) << id_of(f, 2);
}

TEST(ImportJsonl, EveryBadLineIsListed) {
  const ImportFile f = parse_import(
      "q.jsonl",
      "{\"type\":\"household\",\"household_id\":\"V01-00001\",\"village\":\"V01\"}\n"   // 1 ok
      "{not json\n"                                                                     // 2
      "\n"                                                                              // 3
      "{\"type\":\"batch\",\"events\":[]}\n"                                            // 4
      "{\"type\":\"household\",\"household_id\":\"V01-00002\",\"vilage\":\"V01\"}\n"    // 5
      "{\"type\":\"status_change\",\"household_id\":\"V01-00001\",\"status\":\"credit\"}\n"  // 6
      "{\"type\":\"vote\",\"household_id\":\"V01-00001\"}\n"                            // 7
      "{\"type\":\"household\",\"household_id\":\"V01-00003\",\"village\":\"V01\"}\n");  // 8 ok
  EXPECT_EQ(issue_lines(f), (std::vector<std::size_t>{2, 4, 5, 6, 7})) << describe(f);
  ASSERT_EQ(f.issues.size(), 5u);
  EXPECT_EQ(f.issues[0].code, "invalid_json");
  EXPECT_EQ(f.issues[1].code, "invalid_request");
  EXPECT_EQ(f.issues[2].code, "unknown_field");
  EXPECT_EQ(f.issues[2].field, "vilage");
  EXPECT_EQ(f.issues[3].code, "missing_field");
  EXPECT_EQ(f.issues[3].field, "quarter");
  EXPECT_EQ(f.issues[4].code, "unknown_type");
  EXPECT_EQ(row_lines(f), (std::vector<std::size_t>{1, 8}));
}

// A JSONL line that is valid JSON but not an object with a string "type" must be reported as
// a bad row, not escape as an exception from parse_import() (hubctl would abort).
TEST(ImportJsonl, NonObjectLinesAndNonStringTypesAreBadRows) {
  for (const char* line : {"[1,2]", "\"text\"", "42", "{\"type\":5,\"household_id\":\"V01-00001\"}"}) {
    SCOPED_TRACE(line);
    ImportFile f;
    EXPECT_NO_THROW(f = parse_import("q.jsonl", std::string("{\"type\":\"household\",\"household_id\":\"V01-00001\","
                                                            "\"village\":\"V01\"}\n") +
                                                    line + "\n"));
    EXPECT_EQ(issue_lines(f), (std::vector<std::size_t>{2})) << describe(f);
  }
}

TEST(ImportJsonl, EmptyFile) {
  for (const char* text : {"", "\n\n", "  \r\n"}) {
    const ImportFile f = parse_import("q.jsonl", text);
    ASSERT_EQ(f.issues.size(), 1u);
    EXPECT_EQ(f.issues[0].code, "empty_file");
    EXPECT_EQ(f.issues[0].line, 0u);
  }
}

// --- generated ids ----------------------------------------------------------------------------

TEST(ImportIds, GeneratedIdsAreStableValidAndContentDerived) {
  const std::string header = "household_id,status,quarter,designations\n";
  const ImportFile a = parse_good("a.csv", header + "V03-00417,non_credit,2020Q3,assistance\n");
  const ImportFile again = parse_good("b.csv", header + "\n V03-00417 , non_credit ,2020Q3,assistance\n");
  const ImportFile changed = parse_good("a.csv", header + "V03-00417,credit,2020Q3,assistance\n");
  const ImportFile other_designations = parse_good("a.csv", header + "V03-00417,non_credit,2020Q3,\n");

  const std::string id = id_of(a, 0);
  EXPECT_EQ(id.rfind("ev-2020Q3-V03-00417-", 0), 0u) << id;
  EXPECT_EQ(id, id_of(again, 0)) << "same row, same id (whatever its line or spacing)";
  EXPECT_NE(id, id_of(changed, 0)) << "a corrected status is a new event";
  EXPECT_NE(id, id_of(other_designations, 0));
  EXPECT_TRUE(is_valid_id(id));
  EXPECT_LE(id.size(), 64u);

  // Same event from JSONL without an id: the same id as from CSV.
  const ImportFile jsonl = parse_good(
      "a.jsonl",
      R"({"type":"status_change","household_id":"V03-00417","status":"non_credit","quarter":"2020Q3","designations":["assistance"]})");
  EXPECT_EQ(id_of(jsonl, 0), id);

  // Households and commitments.
  const ImportFile h = parse_good("h.csv", "household_id,village,members\nV03-00417,V03,4\n");
  const ImportFile h2 = parse_good("h.csv", "household_id,village,members\nV03-00417,V03,5\n");
  EXPECT_EQ(id_of(h, 0).rfind("reg-V03-00417-", 0), 0u);
  EXPECT_NE(id_of(h, 0), id_of(h2, 0));
  const ImportFile c = parse_good("c.csv", "household_id,signed_on\nV03-00417,2020-04-15\n");
  EXPECT_EQ(id_of(c, 0).rfind("com-V03-00417-", 0), 0u);
  // An explicit event_id column wins.
  const ImportFile explicit_id = parse_good("c.csv", "household_id,signed_on,event_id\nV03-00417,2020-04-15,c-1\n");
  EXPECT_EQ(id_of(explicit_id, 0), "c-1");
}

TEST(ImportIds, LongHouseholdIdsStillGiveValidIdsOfAtMost64Characters) {
  const std::string household(64, 'H');
  for (const std::string& text :
       {"household_id,status,quarter\n" + household + ",credit,2020Q3\n",
        "household_id,village\n" + household + ",V01\n", "household_id,signed_on\n" + household + ",2020-04-15\n"}) {
    const ImportFile f = parse_good("long.csv", text);
    ASSERT_EQ(f.rows.size(), 1u);
    const std::string id = id_of(f, 0);
    EXPECT_LE(id.size(), 64u) << id;
    EXPECT_TRUE(is_valid_id(id)) << id;
    EXPECT_TRUE(parse_event(f.rows[0].event).ok());
  }
  const ImportFile a = parse_good("l.csv", "household_id,status,quarter\n" + household + ",credit,2020Q3\n");
  const ImportFile b = parse_good("l.csv", "household_id,status,quarter\n" + household + ",breach,2020Q3\n");
  EXPECT_NE(id_of(a, 0), id_of(b, 0));
}

// --- whole-file consistency -----------------------------------------------------------------

TEST(ImportConsistency, SameIdForDifferentContentIsAConflict) {
  ImportFile f = parse_good("e.csv",
                            "household_id,status,quarter,event_id\n"  // 1
                            "V01-00001,credit,2020Q3,e-1\n"           // 2
                            "V01-00002,credit,2020Q3,e-2\n"           // 3
                            "V01-00001,credit,2020Q3,e-1\n"           // 4 same content: a duplicate row
                            "V01-00001,breach,2020Q3,e-1\n");         // 5 conflict
  check_file_consistency(f);
  ASSERT_EQ(f.issues.size(), 2u) << describe(f);
  EXPECT_EQ(f.issues[0].line, 4u);
  EXPECT_EQ(f.issues[0].code, "duplicate_row");
  EXPECT_EQ(f.issues[1].line, 5u);
  EXPECT_EQ(f.issues[1].code, "conflict");
  EXPECT_EQ(f.issues[1].field, "event_id");
  EXPECT_NE(f.issues[1].message.find("line 2"), std::string::npos) << f.issues[1].message;
}

// One row per household and what it says in a file: a registration, a commitment, an
// evaluation per quarter. A second one, identical (pasted twice) or not (one of the two would
// silently win), is refused on the later row, naming the earlier; a correction goes in a file of
// its own. Other quarters, other households and other kinds of row are not duplicates.
TEST(ImportConsistency, AHouseholdSaidTwiceIsADuplicateRowOnTheLaterLine) {
  ImportFile evaluations = parse_good("e.csv",
                                      "household_id,status,quarter\n"  // 1
                                      "V01-00001,credit,2020Q4\n"      // 2
                                      "V01-00002,credit,2020Q4\n"      // 3
                                      "V01-00001,credit,2020Q4\n"      // 4 the same row again
                                      "V01-00002,breach,2020Q4\n"      // 5 another result, the same quarter
                                      "V01-00001,breach,2021Q1\n");    // 6 the next quarter: fine
  check_file_consistency(evaluations);
  EXPECT_EQ(issue_lines(evaluations), (std::vector<std::size_t>{4, 5})) << describe(evaluations);
  for (const auto& i : evaluations.issues) {
    EXPECT_EQ(i.code, "duplicate_row");
    EXPECT_EQ(i.field, "household_id");
    EXPECT_NE(i.message.find("2020Q4"), std::string::npos) << i.message;
  }
  EXPECT_NE(evaluations.issues[0].message.find("line 2"), std::string::npos) << evaluations.issues[0].message;
  EXPECT_NE(evaluations.issues[1].message.find("line 3"), std::string::npos) << evaluations.issues[1].message;

  ImportFile registry = parse_good("h.jsonl",
                                   "{\"type\":\"household\",\"household_id\":\"V01-00001\",\"village\":\"V01\"}\n"
                                   "{\"type\":\"commitment\",\"household_id\":\"V01-00001\",\"signed_on\":\"2020-04-15\"}\n"
                                   "{\"type\":\"household\",\"household_id\":\"V01-00001\",\"village\":\"V01\",\"head\":\"王芳\"}\n"
                                   "{\"type\":\"commitment\",\"household_id\":\"V01-00001\",\"signed_on\":\"2020-05-01\"}\n");
  check_file_consistency(registry);
  EXPECT_EQ(issue_lines(registry), (std::vector<std::size_t>{3, 4})) << describe(registry);
  EXPECT_NE(registry.issues[0].message.find("registered on line 1"), std::string::npos) << registry.issues[0].message;
  EXPECT_NE(registry.issues[1].message.find("commitment on line 2"), std::string::npos) << registry.issues[1].message;
}

TEST(ImportConsistency, EvaluationsGoingBackInTimeAreStale) {
  ImportFile f = parse_good("e.csv",
                            "household_id,status,quarter\n"  // 1
                            "V01-00001,credit,2020Q4\n"      // 2
                            "V01-00002,credit,2020Q3\n"      // 3 other household: independent
                            "V01-00003,breach,2020Q4\n"      // 4 other household: independent
                            "V01-00001,non_credit,2020Q3\n"  // 5 stale
                            "V01-00002,breach,2021Q1\n"      // 6 fine
                            "V01-00001,breach,2019Q1\n"      // 7 stale
                            "V01-00001,credit,2021Q2\n");    // 8 fine
  check_file_consistency(f);
  EXPECT_EQ(issue_lines(f), (std::vector<std::size_t>{5, 7})) << describe(f);
  for (const auto& i : f.issues) {
    EXPECT_EQ(i.code, "stale_quarter");
    EXPECT_EQ(i.field, "quarter");
    EXPECT_NE(i.message.find("2020Q4"), std::string::npos) << i.message;
  }
}

TEST(ImportConsistency, CleanFileStaysClean) {
  ImportFile f = parse_good("h.jsonl",
                            "{\"type\":\"household\",\"household_id\":\"V01-00001\",\"village\":\"V01\"}\n"
                            "{\"type\":\"commitment\",\"household_id\":\"V01-00001\",\"signed_on\":\"2020-04-15\"}\n"
                            "{\"type\":\"status_change\",\"household_id\":\"V01-00001\",\"status\":\"credit\","
                            "\"quarter\":\"2020Q3\"}\n"
                            "{\"type\":\"status_change\",\"household_id\":\"V01-00001\",\"status\":\"credit\","
                            "\"quarter\":\"2020Q4\"}\n");
  check_file_consistency(f);
  EXPECT_TRUE(f.issues.empty()) << describe(f);
  EXPECT_EQ(f.rows.size(), 4u);
}

// Found by fuzz_import: a CSV whose text is not UTF-8 made hubctl die with an uncaught JSON
// exception. Now a file that is neither UTF-8 nor GB18030 is reported line by line.
TEST(ImportCsv, FileNeitherUtf8NorGb18030IsReportedLineByLine) {
  const std::string bad = "\xFF\xFE";  // a lead byte neither encoding has
  ImportFile f = parse_import("town.csv", "household_id,village,head\nV01-00001,V01," + bad +
                                              "\nV01-00002,V01,Li\nV01-00003,V01," + bad + "\n");
  ASSERT_EQ(f.issues.size(), 2u) << describe(f);
  EXPECT_EQ(f.issues[0].line, 2u);
  EXPECT_EQ(f.issues[1].line, 4u);
  EXPECT_EQ(f.issues[0].code, "invalid_encoding");
  EXPECT_NE(f.issues[0].message.find("GB18030"), std::string::npos);
  EXPECT_TRUE(f.rows.empty());
  EXPECT_NO_THROW(check_file_consistency(f));

  // The same names in UTF-8 import fine.
  ImportFile good = parse_good("town.csv", "household_id,village,head\nV01-00001,V01,王芳\n");
  ASSERT_EQ(good.rows.size(), 1u);
  EXPECT_EQ(good.rows[0].event["head"], "王芳");
  EXPECT_EQ(good.encoding, "UTF-8");
}

// What Excel or WPS writes as "CSV" on a Chinese Windows.
std::string to_gb18030(const std::string& utf8) {
  iconv_t cd = iconv_open("GB18030", "UTF-8");
  EXPECT_NE(cd, reinterpret_cast<iconv_t>(-1));
  std::string out(utf8.size() * 2 + 4, '\0');
  char* in = const_cast<char*>(utf8.data());
  std::size_t in_left = utf8.size(), out_left = out.size();
  char* o = out.data();
  EXPECT_NE(iconv(cd, &in, &in_left, &o, &out_left), static_cast<std::size_t>(-1));
  iconv_close(cd);
  out.resize(out.size() - out_left);
  return out;
}

std::vector<json> events_of(const ImportFile& f) {
  std::vector<json> events;
  for (const auto& r : f.rows) events.push_back(r.event);
  return events;
}

// A clerk's spreadsheet: Chinese headers and values, saved in GB18030, gives exactly the events
// (and generated ids) of the English UTF-8 file.
TEST(ImportCsv, ChineseHeadersAndValuesInGb18030GiveTheEnglishFilesEvents) {
  const std::string english =
      "household_id,status,quarter,effective_date,designations,basis\n"
      "V01-00001,credit,2020Q4,2021-01-01,,评议小组会议纪要\n"
      "V01-00002,non_credit,2020Q4,2021-01-05,assistance,评议小组会议纪要\n"
      "V01-00003,breach,2020Q4,,,评议小组会议纪要\n";
  const std::string chinese =
      "户号,评议结果,季度,生效日期,认定,评议依据\r\n"
      "V01-00001,诚信户,2020年第4季度,2021/1/1,,评议小组会议纪要\r\n"
      "V01-00002,不诚信户,2020年第四季度,2021年1月5日,帮扶对象,评议小组会议纪要\r\n"
      "V01-00003,违约户,2020年4季度,,,评议小组会议纪要\r\n";
  const ImportFile want = parse_good("q4.csv", english);
  const ImportFile got = parse_good("q4.csv", to_gb18030(chinese));
  EXPECT_EQ(got.encoding, "GB18030");
  EXPECT_EQ(got.kind, "evaluations");
  EXPECT_EQ(events_of(got), events_of(want));
  // The same file in UTF-8 with a byte-order mark ("CSV UTF-8" in Excel).
  const ImportFile utf8 = parse_good("q4.csv", "\xEF\xBB\xBF" + chinese);
  EXPECT_EQ(utf8.encoding, "UTF-8");
  EXPECT_EQ(events_of(utf8), events_of(want));
}

TEST(ImportCsv, ChineseHouseholdAndCommitmentFiles) {
  const ImportFile households = parse_good("hh.csv", to_gb18030("户号,村,户主,人口\nV01-00001,V01,王芳,4\n"));
  EXPECT_EQ(households.kind, "households");
  EXPECT_EQ(events_of(households), events_of(parse_good("hh.csv", "household_id,village,head,members\nV01-00001,V01,王芳,4\n")));
  const ImportFile commitments = parse_good("c.csv", "户号,签订日期\nV01-00001,2020年3月9日\nV01-00002,2020/03/10\n");
  EXPECT_EQ(commitments.kind, "commitments");
  ASSERT_EQ(commitments.rows.size(), 2u);
  EXPECT_EQ(commitments.rows[0].event["signed_on"], "2020-03-09");
  EXPECT_EQ(commitments.rows[1].event["signed_on"], "2020-03-10");
  // Designations separated the Chinese way.
  const ImportFile designations = parse_good("q.csv", "户号,评议结果,季度,认定\nV01-00001,诚信户,2020Q4,帮扶对象、assistance\n");
  EXPECT_EQ(designations.rows.at(0).event["designations"], json::array({"assistance", "assistance"}));
}

TEST(ImportCsv, BadChineseValuesAndDoubledColumnsAreNamed) {
  const ImportFile f = parse_import("q.csv", to_gb18030("户号,评议结果,季度\nV01-00001,很诚信,2020年第5季度\n"
                                                        "V01-00002,诚信户,2020年第五季度\nV01-00003,诚信户,2020Q4\n"));
  ASSERT_EQ(f.issues.size(), 2u) << describe(f);
  EXPECT_EQ(f.issues[0].line, 2u);
  EXPECT_EQ(f.issues[0].field, "status");
  EXPECT_EQ(f.issues[1].line, 3u);
  EXPECT_EQ(f.issues[1].field, "quarter");
  EXPECT_EQ(f.rows.size(), 1u);
  const ImportFile bad_date = parse_import("c.csv", "户号,签订日期\nV01-00001,2020年2月30日\n");
  ASSERT_EQ(bad_date.issues.size(), 1u) << describe(bad_date);
  EXPECT_EQ(bad_date.issues[0].field, "signed_on");

  const ImportFile doubled = parse_import("q.csv", "户号,household_id,评议结果,季度\nV01-00001,V01-00001,诚信户,2020Q4\n");
  ASSERT_EQ(doubled.issues.size(), 1u) << describe(doubled);
  EXPECT_EQ(doubled.issues[0].code, "duplicate_column");
  EXPECT_EQ(doubled.issues[0].field, "household_id");
  EXPECT_TRUE(doubled.rows.empty());
}

}  // namespace
}  // namespace hub
