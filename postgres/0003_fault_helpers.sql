-- Routines that let the end-to-end tests cause real faults on demand: a slow query (for the
-- worker's per-query timeout) and dynamic SQL with a syntax error (a 42601 from the server).

CREATE FUNCTION public.slow_query(p_seconds double precision) RETURNS integer
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_sleep(p_seconds);
  RETURN 1;
END;
$$;
COMMENT ON FUNCTION public.slow_query(double precision) IS 'Sleeps, then returns 1 (for timeout tests)';

CREATE FUNCTION public.broken_report() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  result integer;
BEGIN
  EXECUTE 'SELEC 1' INTO result;
  RETURN result;
END;
$$;
COMMENT ON FUNCTION public.broken_report() IS 'Runs SQL with a syntax error (for error-reporting tests)';

-- Takes and returns a text array (for tests that pass JSON arrays to routines).
CREATE FUNCTION public.echo_text_array(p_values text[]) RETURNS text[]
LANGUAGE sql AS $$ SELECT p_values $$;
COMMENT ON FUNCTION public.echo_text_array(text[]) IS 'Returns its text[] argument unchanged (for array tests)';
