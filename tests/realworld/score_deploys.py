"""Compare `ship deploys --format json` with EXPECTED.yml's jobs (role and environment).

A developer's report (the test in crates/ship-cli/tests/realworld.rs is what CI checks):

    python3 tests/realworld/score_deploys.py        # totals and every disagreement
"""
import yaml, json, subprocess, sys, os
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, 'corpus')
SHIP = os.environ.get('SHIP', os.path.join(HERE, '..', '..', 'target', 'release', 'ship'))
total = agree = 0
rows = []
for repo in sorted(os.listdir(ROOT)):
    d = os.path.join(ROOT, repo)
    if not os.path.isdir(d) or repo == 'LICENSES': continue
    exp = yaml.safe_load(open(os.path.join(d, 'EXPECTED.yml')))
    out = subprocess.run([SHIP, 'deploys', d, '--format', 'json'], capture_output=True, text=True)
    got = {(j['workflow'], j['job']): j for j in json.loads(out.stdout)['jobs']}
    for j in exp['jobs']:
        total += 1
        g = got.get((j['workflow'], j['job']))
        if g is None:
            rows.append((repo, j, None)); continue
        if g['role'] == j['role'] and g['environment'] == j['environment']:
            agree += 1
        else:
            rows.append((repo, j, g))
for repo, j, g in rows:
    if g is None:
        print(f"MISSING {repo} {j['workflow']}:{j['job']}")
        continue
    print(f"{repo} {j['workflow'].replace('.github/workflows/','')}:{j['job']}\n   want {j['role']}/{j['environment']}  got {g['role']}/{g['environment']} [{g['environment_how']}]\n   how: {j['how'][:160]}\n   ev: {'; '.join(g['evidence'])[:200]}")
print(f"\n{agree}/{total} jobs agree ({100*agree/total:.1f} %)")
