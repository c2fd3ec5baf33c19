-- Run once, when the PostgreSQL volume is first initialised: the complaints service keeps the
-- `retail` database (POSTGRES_DB), and every other service with a store gets a database of its own.
CREATE DATABASE scheduling OWNER retail;
CREATE DATABASE notifications OWNER retail;
CREATE DATABASE boards OWNER retail;
