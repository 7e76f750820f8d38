"""Score `ship lint` on the real-world corpus against its hand-written EXPECTED.yml labels.

A developer's tool for reading what changed (the test in crates/ship-cli/tests/realworld.rs is
what CI checks). Needs PyYAML.

    python3 tests/realworld/score.py            # per-rule table
    python3 tests/realworld/score.py -v         # plus every unmatched finding, missed label, fine hit
    SHIP=target/debug/ship python3 tests/realworld/score.py
"""
import yaml, json, subprocess, sys, os, collections
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, 'corpus')
SHIP = os.environ.get('SHIP', os.path.join(HERE, '..', '..', 'target', 'release', 'ship'))
TOL = 3
tot = collections.Counter()
per_rule = collections.defaultdict(lambda: collections.Counter())
unmatched_findings = []
missed = []
fine_hits = []
for repo in sorted(os.listdir(ROOT)):
    d = os.path.join(ROOT, repo)
    if not os.path.isdir(d) or repo == 'LICENSES': continue
    exp = yaml.safe_load(open(os.path.join(d, 'EXPECTED.yml')))
    out = subprocess.run([SHIP, 'lint', d, '--format', 'json', '--fail-on', 'note'], capture_output=True, text=True)
    try:
        findings = json.loads(out.stdout)['findings']
    except Exception:
        print('ERR', repo, out.stderr[:300]); continue
    viol = exp.get('violations') or []
    fine = exp.get('fine') or []
    used = [False]*len(viol)
    for f in findings:
        rule = f['rule']
        matched = False
        for i, v in enumerate(viol):
            if v['rule'] == rule and v['path'] == f['path'] and abs(v['line'] - f['line']) <= TOL:
                used[i] = True; matched = True
        isfine = any(x['rule'] == rule and x['path'] == f['path'] and abs(x['line'] - f['line']) <= TOL for x in fine)
        if isfine:
            fine_hits.append((repo, f)); per_rule[rule]['fine'] += 1
        if matched:
            per_rule[rule]['tp'] += 1
        else:
            per_rule[rule]['fp'] += 1
            unmatched_findings.append((repo, f))
    for i, v in enumerate(viol):
        per_rule[v['rule']]['labelled'] += 1
        if used[i]: per_rule[v['rule']]['found'] += 1
        else: missed.append((repo, v))
print(f"{'rule':24} {'lab':>4} {'found':>5} {'tp':>4} {'fp':>4} {'fine':>4}")
T = collections.Counter()
for r, c in sorted(per_rule.items()):
    print(f"{r:24} {c['labelled']:4} {c['found']:5} {c['tp']:4} {c['fp']:4} {c['fine']:4}")
    T.update(c)
print(f"{'TOTAL':24} {T['labelled']:4} {T['found']:5} {T['tp']:4} {T['fp']:4} {T['fine']:4}")
if '-v' in sys.argv:
    print('\n== unmatched findings')
    for repo, f in unmatched_findings: print(f"{f['rule']}\t{repo}\t{f['path']}:{f['line']}\t{f['message'][:150]}")
    print('\n== missed')
    for repo, v in missed: print(f"{v['rule']}\t{repo}\t{v['path']}:{v['line']}\t{v.get('why','')[:150]}")
    print('\n== fine hits')
    for repo, f in fine_hits: print(f"{f['rule']}\t{repo}\t{f['path']}:{f['line']}\t{f['message'][:150]}")
