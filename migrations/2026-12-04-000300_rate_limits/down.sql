DROP INDEX rate_limits_window;
DROP TABLE rate_limits;
