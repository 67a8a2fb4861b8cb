// Reads an import file (CSV or JSONL) into wire events, checking every row with the same
// validator the hub uses, so that a bad file is reported in full — every bad row with its
// line number and reason — before anything is sent.
//
// CSV kinds are recognised by their header:
//   households:  household_id,village[,head][,members][,event_id]
//   commitments: household_id,signed_on[,event_id]
//   evaluations: household_id,status,quarter[,effective_date][,designations][,basis][,event_id]
//                (designations separated by ';')
// as a clerk's spreadsheet has them too: Chinese headers (户号, 村, 户主, 人口, 签订日期, 评议结果,
// 季度, 生效日期, 认定, 评议依据, 事件编号 — kChineseColumns in the .cpp), Chinese values (诚信户,
// 不诚信户, 违约户; 帮扶对象; 2020年第4季度; dates as 2021/1/1 or 2021年1月1日; designations
// separated by ；or 、 as well), and text in GB18030 (GBK, GB2312) as Excel and WPS save "CSV"
// on a Chinese Windows: a CSV that is not UTF-8 is read as GB18030 when it is valid GB18030.
// The events are the same as from the English file (the same generated event ids).
// JSONL: one wire event object per line (§4), any mix of types.
// Rows without an event_id get a stable one derived from their content
// ("reg-<household>-<digest>", "com-…", "ev-<quarter>-<household>-<digest>"), so importing
// the same file twice stores nothing new, and a corrected row is a new event.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hub {

struct ImportRow {
  std::size_t line = 0;
  nlohmann::json event;  // a valid wire event
};

struct ImportIssue {
  std::size_t line = 0;
  std::string code;
  std::string field;
  std::string message;
};

struct ImportFile {
  std::string kind;  // households | commitments | evaluations | jsonl
  std::string encoding = "UTF-8";  // or "GB18030": the file's text was converted
  std::vector<ImportRow> rows;
  std::vector<ImportIssue> issues;  // empty when the file is good
};

// Parses text; `name` decides CSV or JSONL by its ending (.csv, .jsonl/.json/.ndjson).
ImportFile parse_import(const std::string& name, const std::string& text);

// Checks that need the whole file: one event_id used for different content (`conflict`), a
// household registered, committed or evaluated for one quarter on two rows (`duplicate_row`,
// identical or not, on the later row), and a household's evaluations going back in time within
// the file (`stale_quarter`).
void check_file_consistency(ImportFile& file);

}  // namespace hub
