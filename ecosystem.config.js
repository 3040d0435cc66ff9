// PM2: `pm2 start ecosystem.config.js`. One engine process by default (SQLite allows one writer);
// with the PostgreSQL store, raise HISBRIDGE_INSTANCES to run several nodes on one server.
const instances = Number(process.env.HISBRIDGE_INSTANCES || 1);

module.exports = {
  apps: [
    {
      name: 'hisbridge',
      script: 'engine/cli/main.ts',
      args: 'start',
      interpreter: 'node',
      interpreter_args: '--import tsx',
      cwd: __dirname,
      instances,
      // Several processes share every listening port in PM2's cluster mode (stateless listeners on
      // all of them); singleton sources are held by one process through a store lease.
      exec_mode: instances > 1 ? 'cluster' : 'fork',
      // Graceful stop: the engine stops accepting, finishes in-flight deliveries, then exits.
      kill_timeout: 30000,
      shutdown_with_message: false,
      autorestart: true,
      max_restarts: 20,
      min_uptime: '10s',
      exp_backoff_restart_delay: 200,
      max_memory_restart: '1G',
      out_file: 'logs/pm2-out.log',
      error_file: 'logs/pm2-error.log',
      merge_logs: true,
      time: true,
      env: { NODE_ENV: 'production' },
    },
  ],
};
