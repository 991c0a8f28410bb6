#!/usr/bin/env python3
"""Times OR-Tools' SimpleMinCostFlow on an allocation instance (benchmark only, not CI).

Reads the instance `bangfu allocate --input` takes (as `bangfu-bench allocate --write-instance`
writes it), builds the min-cost flow — providers → needs on the arcs; each provider → a sink at
cost 0 for its capacity left over; a source of shortfall → each need at its unmet cost; source →
sink — and prints one JSON line: {"arcs", "solve_s", "cost", "network"}. solve_s times
SimpleMinCostFlow.solve() only (the network is built before the clock starts); cost must equal
bangfu's. With --hub, source and sink are one node (the network bangfu's solver uses: capacity
left over goes to "elsewhere", unmet quantity comes from it), which OR-Tools may find easier.

    pip3 install ortools      # 9.15 was used
    python3 scripts/ortools_mcf.py /tmp/alloc-instance.json [--hub]
"""
import json
import sys
import time

from ortools.graph.python import min_cost_flow


def main(path, hub):
    with open(path) as f:
        instance = json.load(f)
    providers, needs, arcs = instance["providers"], instance["needs"], instance["arcs"]
    index = {}
    for i, p in enumerate(providers):
        index[("p", p["id"])] = i
    for j, n in enumerate(needs):
        index[("n", n["id"])] = len(providers) + j
    source = len(providers) + len(needs)  # shortfall
    sink = source if hub else source + 1  # capacity left over
    total_q = sum(n["quantity"] for n in needs)
    total_c = sum(p["capacity"] for p in providers)
    infinite = total_q + total_c

    mcf = min_cost_flow.SimpleMinCostFlow()
    tails, heads, caps, costs = [], [], [], []
    for a in arcs:
        tails.append(index[("p", a["provider"])])
        heads.append(index[("n", a["need"])])
        caps.append(infinite)
        costs.append(a["cost"])
    for n in needs:
        tails.append(source)
        heads.append(index[("n", n["id"])])
        caps.append(infinite)
        costs.append(n["unmet_cost"])
    for p in providers:
        tails.append(index[("p", p["id"])])
        heads.append(sink)
        caps.append(infinite)
        costs.append(0)
    if not hub:
        tails.append(source)
        heads.append(sink)
        caps.append(infinite)
        costs.append(0)
    mcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = [0] * (sink + 1)
    for i, p in enumerate(providers):
        supplies[i] = p["capacity"]
    for j, n in enumerate(needs):
        supplies[len(providers) + j] = -n["quantity"]
    supplies[source] += total_q
    supplies[sink] -= total_c
    mcf.set_nodes_supplies(list(range(sink + 1)), supplies)

    began = time.perf_counter()
    status = mcf.solve()
    elapsed = time.perf_counter() - began
    if status != mcf.OPTIMAL:
        print(json.dumps({"error": f"status {status}"}))
        return 2
    network = "hub" if hub else "source and sink"
    print(json.dumps({"arcs": len(arcs), "solve_s": round(elapsed, 3), "cost": mcf.optimal_cost(), "network": network}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], "--hub" in sys.argv[2:]))
