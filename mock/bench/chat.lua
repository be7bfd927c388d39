-- wrk script: POST a small OpenAI chat body to /v1/chat/completions.
-- wrk -t2 -c64 -d10s -s mock/bench/chat.lua http://127.0.0.1:PORT
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench"
wrk.body = '{"model":"gpt-4.1-mini","messages":[{"role":"system","content":"Answer in one word."},{"role":"user","content":"What is the capital of France?"}],"temperature":0,"max_completion_tokens":16}'


done = function(summary, latency, requests)
  io.write(string.format("non-2xx/3xx: %d, socket errors: connect %d read %d write %d timeout %d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
end
