# Sourced by scripts/load-province.sh and scripts/cpu-per-request.sh: what both send to a server
# with the province exercise loaded, and how both wait for it.

# wait_idle PID: until the process uses under 5 % of a core for a second (at most 2 min) — the
# server's start-up passes (escalation, morning briefings) are over.
wait_idle() { for _ in $(seq 1 120); do local a b; a=$(awk '{print $14+$15}' "/proc/$1/stat"); sleep 1; b=$(awk '{print $14+$15}' "/proc/$1/stat"); [ $((b - a)) -lt 5 ] && return; done; }

# province_cases ADDR TOKEN: the ids of the first 500 cases the token sees, comma-separated.
province_cases() {
  curl -s -H "Authorization: Bearer $2" "http://$1/api/v1/cases?limit=500" | grep -o '"id":[0-9]*' | sed 's/"id"://' | sort -n | uniq | tr '\n' ',' | sed 's/,$//'
}

# write_province_lua DIR CASES TOKEN: DIR/post.lua (need reports: the six needs of the load test
# on random cases) and DIR/get.lua (case reads), for wrk -s.
write_province_lua() {
  cat >"$1/post.lua" <<LUA
local cases = { $2 }
local bodies = {
  '{"kind":"sterilisation","title":"成品口罩灭菌","quantity":90000,"unit":"只"}',
  '{"kind":"sterilisation","title":"成品口罩灭菌（限时）","quantity":90000,"unit":"只","max_distance_km":400,"max_lead_time_h":96}',
  '{"kind":"raw_material","title":"熔喷布","quantity":5,"unit":"吨","requires":{"material":"熔喷布"}}',
  '{"kind":"raw_material","title":"熔喷布（限时）","quantity":5,"unit":"吨","requires":{"material":"熔喷布"},"max_distance_km":600,"max_lead_time_h":72}',
  '{"kind":"labour","title":"设备调试技工","quantity":3,"unit":"人","requires":{"skill":"机修"}}',
  '{"kind":"labour","title":"设备调试技工（限时）","quantity":3,"unit":"人","requires":{"skill":"机修"},"max_distance_km":300}'
}
math.randomseed(12)
request = function()
  local path = "/api/v1/cases/" .. cases[math.random(#cases)] .. "/needs"
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $3"}, bodies[math.random(#bodies)])
end
LUA
  cat >"$1/get.lua" <<LUA
local cases = { $2 }
math.randomseed(12)
request = function()
  return wrk.format("GET", "/api/v1/cases/" .. cases[math.random(#cases)], {["Authorization"] = "Bearer $3"})
end
LUA
}
