#!/usr/bin/env bash
# The demo town, end to end: installs what is missing, builds, generates the reference town
# (14 villages, 17,090 households, eight quarters 2020Q3-2022Q2 and the complaints about them),
# starts hubd with its embedded defaults and the nine department plugins, imports registry,
# commitments and seven quarters, waits until every department has caught up, then prints the
# delivery status and one non_credit household with the assistance designation across all
# departments, rules a complaint about a past quarter upheld (the departments' remedies,
# finance's payment), lodges and rules the town's other complaints, posts village V01's last
# quarter as a notice (公示) and confirms it, and checks that reconcile finds nothing. hubd keeps
# running; Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target hubd hubctl hub-towngen \
  hub_plugin_schools hub_plugin_police hub_plugin_land hub_plugin_finance hub_plugin_civil_affairs \
  hub_plugin_agriculture hub_plugin_judicial hub_plugin_urban_construction hub_plugin_fp_association
BIN="$BUILD_DIR/bin"
HUBCTL="$BIN/hubctl"

echo "== 生成参考镇 / generating the reference town =="
"$BIN/hub-towngen" --out var/town --plugin-data var/plugins --quarters 8 --quiet

echo "== 启动 hubd / starting hubd (log: var/hubd.log) =="
rm -f var/hubd.endpoints.json
"$BIN/hubd" > var/hubd.log 2>&1 &
HUBD=$!
trap 'kill -TERM $HUBD 2>/dev/null; wait $HUBD 2>/dev/null; exit 0' INT TERM
for _ in $(seq 100); do
  [ -f var/hubd.endpoints.json ] && break
  kill -0 $HUBD 2>/dev/null || { cat var/hubd.log; echo "hubd did not start"; exit 1; }
  sleep 0.1
done

echo "   CURVE 加密认证已开启 / CURVE is on: hubd's keys and the admin and publisher keys are in var/keys"
echo "   (made on the first start; hubctl uses them from there — docs/security.md)"

echo "== 导入 / importing =="
# Seven quarters are published as final; the eighth (2022Q2) is village V01's notice below.
for f in households commitments evaluations-2020Q3 evaluations-2020Q4 evaluations-2021Q1 evaluations-2021Q2 \
         evaluations-2021Q3 evaluations-2021Q4 evaluations-2022Q1; do
  "$HUBCTL" import "var/town/$f.csv"
done

wait_for_every_department() {
  echo "== 等待各部门送达 / waiting for every department =="
  while :; do
    lag=$("$HUBCTL" status --json | python3 -c 'import json,sys; d=json.load(sys.stdin)["departments"]; print(sum(x["lag"] for x in d))')
    [ "$lag" = 0 ] && break
    printf '\r  remaining deliveries (lag): %s      ' "$lag"
    sleep 0.5
  done
  echo
}
wait_for_every_department
"$HUBCTL" status
# A non_credit household with the assistance designation (帮扶对象) concerns every department,
# the family-planning association included; any non_credit household if there is none.
household=$(awk -F, '$2 == "non_credit" && $5 == "assistance" { print $1; exit }' var/town/evaluations-2022Q1.csv)
[ -n "$household" ] || household=$(awk -F, '$2 == "non_credit" { print $1; exit }' var/town/evaluations-2022Q1.csv)
echo
echo "== 一户跨部门视图 / one non_credit household across departments: $household =="
"$HUBCTL" household "$household"

# A complaint about a past quarter, ruled upheld (投诉裁定更正往季): a household on finance's
# roster that was evaluated breach for 2020Q3 (and again for 2020Q4). The ruling corrects 2020Q3
# to credit; the household's evaluation now stays; each department decides its remedy for 2020Q3
# (finance pays what the wrong breach withheld), and the ledger names the complaint.
ruled=$(python3 - <<'PY'
import csv
roster = {row["household_id"] for row in csv.DictReader(open("var/plugins/finance/roster.csv"))}
complained = {row["household_id"] for row in csv.DictReader(open("var/town/complaints.csv"))}
for row in csv.DictReader(open("var/town/evaluations-2020Q3.csv")):
    if row["status"] == "breach" and row["household_id"] in roster and row["household_id"] not in complained:
        print(row["household_id"])
        break
PY
)
if [ -n "$ruled" ]; then
  echo
  echo "== 投诉裁定更正往季 / a complaint about 2020Q3 ruled upheld: $ruled =="
  complaint=$("$HUBCTL" complaints add --household "$ruled" --quarter 2020Q3 --channel village_box --by demo \
                --summary '2020年第三季度评为违约户与事实不符 / the 2020Q3 breach is wrong' --json |
              python3 -c 'import json,sys; print(json.load(sys.stdin)["complaint"]["id"])')
  "$HUBCTL" complaints rule "$complaint" --outcome upheld --status credit --by demo --ruled-on "$(date +%F)" \
    --ruling '经村评议小组复核属实，更正为诚信户 / upheld on review: credit'
  wait_for_every_department
  "$HUBCTL" household "$ruled"
fi

# The town's complaints about earlier quarters (complaints.csv of the generator), lodged on the
# day they were received and ruled: the upheld ones put their quarter right.
echo
echo "== 投诉举报 / the town's complaints about earlier quarters (var/town/complaints.csv) =="
HUBCTL="$HUBCTL" python3 - <<'PY'
import csv, json, os, subprocess
hubctl = os.environ["HUBCTL"]
rows = list(csv.DictReader(open("var/town/complaints.csv")))
for n, r in enumerate(rows, 1):
    lodged = subprocess.run([hubctl, "complaints", "add", "--household", r["household_id"], "--quarter", r["quarter"],
                             "--channel", r["channel"], "--received", r["received_on"], "--summary", r["summary"],
                             "--by", "demo", "--json"], check=True, capture_output=True, text=True)
    rule = [hubctl, "complaints", "rule", json.loads(lodged.stdout.splitlines()[0])["complaint"]["id"], "--outcome",
            r["outcome"], "--ruling", r["ruling"], "--ruled-on", r["ruled_on"], "--by", "demo"]
    if r["outcome"] == "upheld":
        rule += ["--status", r["corrected_status"]]
    subprocess.run(rule, check=True, capture_output=True, text=True)
    print(f"\r  {n}/{len(rows)} ruled", end="", flush=True)
upheld = sum(r["outcome"] == "upheld" for r in rows)
print(f"\n  {len(rows)} 件投诉已裁定 / complaints ruled: {upheld} upheld 属实, {len(rows) - upheld} dismissed 不属实")
PY
wait_for_every_department

# Notice before effect (公示): village V01's 2022Q2 evaluations are proposed, listed on its notice
# and delivered to no one; a complaint about one household holds it; the office confirms early
# (with a reason, audited): every other household's evaluation is published and delivered (its
# effective date, 2022-07-01, has passed; a later one would wait for its day).
echo
echo "== 公示 / notice before effect: V01 2022Q2 =="
python3 - <<'PY'
import csv
rows = [r for r in csv.DictReader(open("var/town/evaluations-2022Q2.csv")) if r["household_id"].startswith("V01-")]
with open("var/town/proposed-2022Q2-V01.csv", "w", newline="") as out:
    w = csv.DictWriter(out, fieldnames=rows[0].keys())
    w.writeheader()
    w.writerows(rows)
PY
"$HUBCTL" notice propose var/town/proposed-2022Q2-V01.csv --by demo
"$HUBCTL" notice show --village V01 --quarter 2022Q2 > var/notice-V01-2022Q2.txt
head -n 6 var/notice-V01-2022Q2.txt
echo "   … (全部 / the whole list: var/notice-V01-2022Q2.txt)"
held=$(awk -F, 'NR == 2 { print $1 }' var/town/proposed-2022Q2-V01.csv)
"$HUBCTL" complaints add --household "$held" --quarter 2022Q2 --channel village_box --by demo \
  --summary '对公示的评议结果有异议 / objects to the proposed evaluation' >/dev/null
"$HUBCTL" notice confirm --village V01 --quarter 2022Q2 --by demo \
  --reason '演示：村民代表会议已审议 / demo: reviewed by the villagers’ representatives'
wait_for_every_department
"$HUBCTL" notice list
echo
echo "== 对账 / reconcile: records that disagree with the evaluations =="
"$HUBCTL" reconcile | tail -n 3

dashboard=$(python3 -c 'import json; print(json.load(open("var/hubd.endpoints.json"))["http"])')
echo
echo "== 管理页面 / dashboard: $dashboard =="
echo "   送达概况 overview ${dashboard}#/ · 村季度报告 village report ${dashboard}#/villages"
echo "   按户查询 household ${dashboard}#/household/$household · 查找违约户 find breaching households ${dashboard}#/households?status=breach"
echo "   English: ${dashboard}?lang=en"
echo "   季度报告 / quarterly report: $HUBCTL report --quarter 2022Q1 · 对账 / reconcile: $HUBCTL reconcile"
echo
echo "hubd is running (pid $HUBD). Try: $HUBCTL status | $HUBCTL household $household | $HUBCTL --help"
echo "按 Ctrl-C 停止 / press Ctrl-C to stop."
wait $HUBD
