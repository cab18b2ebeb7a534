-- wrk: POST /api/v1/appeals as an enterprise user (token given with -H "Authorization: ...").
-- Category `other` has no routing rule in the seeded data, so each request writes what
-- bench/scripts/appeal_insert.sql writes: 1 appeal, 3 SLA clocks, 1 timeline event.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local n = 0
request = function()
    n = n + 1
    local body = string.format(
        '{"title":"压测诉求：厂区周边道路维修 %d","content":"厂区周边道路维修。目前项目进度受到影响，恳请相关部门协调解决，并告知所需材料和办理时限。","category":"other"}',
        n)
    return wrk.format(nil, nil, nil, body)
end
