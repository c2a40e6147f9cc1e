-- wrk script: GET the verification endpoint with a random code from a file
-- per request (CRT-2). Arguments after `--`: CODES_FILE [PATH_PREFIX].
--
-- Every wrk thread loads the codes into its own Lua state and formats every
-- request once, up front: formatting per request in Lua would cost the load
-- generator more CPU than the server spends on /healthz, on the same cores.

local requests = {}
local count = 0

function init(args)
    local file = args[1] or error("usage: wrk -s verify.lua URL -- CODES_FILE [PATH_PREFIX]")
    local prefix = args[2] or "/api/v1/public/certificates/"
    for line in io.lines(file) do
        if #line > 0 then
            count = count + 1
            requests[count] = wrk.format("GET", prefix .. line)
        end
    end
    if count == 0 then
        error("no codes in " .. file)
    end
    -- Different threads draw different sequences.
    math.randomseed(os.time() + (tonumber(tostring(requests):match("0x(%x+)") or "0", 16) or 0) % 100003)
end

function request()
    return requests[math.random(count)]
end
