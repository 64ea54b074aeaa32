// Renders templates with real Apache Velocity 1.7, with $util, $input, $context and
// $stageVariables shaped as API Gateway provides them, for mapping/tests/velocity.rs.
//
// Protocol (stdin, then stdout), every record `<byte length>\n<UTF-8 bytes>`:
//   in:  one record with the request as JSON (see `request_json` in velocity.rs), then one
//        record per template;
//   out: per template, `O` or `E` (rendered or failed) directly followed by a record with
//        the output or the exception.
// One JVM renders the whole batch: starting Java costs more than thousands of renders.

import java.io.*;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.*;

import org.apache.commons.lang.StringEscapeUtils;
import org.apache.velocity.VelocityContext;
import org.apache.velocity.app.VelocityEngine;
import org.apache.velocity.app.event.EventCartridge;
import org.apache.velocity.app.event.ReferenceInsertionEventHandler;

public class VelocityDriver {
    public static void main(String[] args) throws Exception {
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
        OutputStream out = new BufferedOutputStream(System.out);
        Map<String, Object> request = asMap(new Json(readRecord(in)).value());

        VelocityEngine engine = new VelocityEngine();
        engine.setProperty("runtime.log.logsystem.class",
                "org.apache.velocity.runtime.log.NullLogChute");
        engine.init();

        String template;
        while ((template = readRecord(in)) != null) {
            VelocityContext context = new VelocityContext();
            context.put("util", new Util());
            context.put("input", new Input(request));
            context.put("context", copy(request.get("context")));
            context.put("stageVariables", copy(request.get("stageVariables")));
            EventCartridge cartridge = new EventCartridge();
            cartridge.addEventHandler(new NullAsEmpty());
            cartridge.attachToContext(context);
            StringWriter writer = new StringWriter();
            try {
                engine.evaluate(context, writer, "template", template);
                writeRecord(out, 'O', writer.toString());
            } catch (Throwable e) {
                writeRecord(out, 'E', e.getClass().getName() + ": " + e.getMessage());
            }
        }
        out.flush();
    }

    /// API Gateway renders a null reference as nothing (stock Velocity prints its text).
    public static class NullAsEmpty implements ReferenceInsertionEventHandler {
        public Object referenceInsert(String reference, Object value) {
            return value == null ? "" : value;
        }
    }

    static String readRecord(DataInputStream in) throws IOException {
        StringBuilder length = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) return null;
            length.append((char) c);
        }
        byte[] bytes = new byte[Integer.parseInt(length.toString())];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static void writeRecord(OutputStream out, char kind, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        out.write((kind + Integer.toString(bytes.length) + "\n").getBytes(StandardCharsets.UTF_8));
        out.write(bytes);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> asMap(Object value) {
        return (Map<String, Object>) value;
    }

    /// A fresh copy per template, so one template's #set into a map cannot leak.
    @SuppressWarnings("unchecked")
    static Object copy(Object value) {
        if (value instanceof Map) {
            Map<String, Object> copied = new LinkedHashMap<String, Object>();
            for (Map.Entry<String, Object> e : ((Map<String, Object>) value).entrySet()) {
                copied.put(e.getKey(), copy(e.getValue()));
            }
            return copied;
        }
        if (value instanceof List) {
            List<Object> copied = value instanceof JsonList ? new JsonList() : new ArrayList<Object>();
            for (Object item : (List<Object>) value) copied.add(copy(item));
            return copied;
        }
        return value;
    }

    /// `$util`, as API Gateway documents it.
    public static class Util {
        public String escapeJavaScript(String s) {
            return StringEscapeUtils.escapeJavaScript(s);
        }

        public String urlEncode(String s) throws UnsupportedEncodingException {
            return URLEncoder.encode(s, "UTF-8");
        }

        public String urlDecode(String s) throws UnsupportedEncodingException {
            return URLDecoder.decode(s, "UTF-8");
        }

        public String base64Encode(String s) {
            return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        }

        public String base64Decode(String s) {
            return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
        }

        public Object parseJson(String s) {
            return new Json(s).value();
        }
    }

    /// `$input`: body, json(path), path(path), params(), params(name).
    public static class Input {
        private final Map<String, Object> request;

        Input(Map<String, Object> request) {
            this.request = request;
        }

        public String getBody() {
            return (String) request.get("body");
        }

        private Object document() {
            String body = getBody();
            return body.trim().isEmpty() ? new LinkedHashMap<String, Object>() : new Json(body).value();
        }

        public Object path(String path) {
            Object selected = select(document(), path);
            return selected == MISSING ? null : selected;
        }

        public String json(String path) {
            Object selected = select(document(), path);
            if (selected == MISSING) return "";
            StringBuilder out = new StringBuilder();
            Json.write(selected, out);
            return out.toString();
        }

        public Map<String, Object> params() {
            Map<String, Object> params = new LinkedHashMap<String, Object>();
            for (String part : new String[] {"path", "querystring", "header"}) {
                params.put(part, copy(request.get(part)));
            }
            return params;
        }

        public String params(String name) {
            for (String part : new String[] {"path", "querystring"}) {
                Object found = asMap(request.get(part)).get(name);
                if (found != null) return (String) found;
            }
            for (Map.Entry<String, Object> e : asMap(request.get("header")).entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) return (String) e.getValue();
            }
            return "";
        }
    }

    static final Object MISSING = new Object() {
        public String toString() {
            return "";
        }
    };

    /// The JSONPath subset the renderer supports: `$`, `.name`, `['name']`, `[n]`.
    @SuppressWarnings("unchecked")
    static Object select(Object root, String path) {
        Object current = root;
        int i = 1;
        while (i < path.length()) {
            Object key;
            if (path.charAt(i) == '.') {
                int end = i + 1;
                while (end < path.length() && path.charAt(end) != '.' && path.charAt(end) != '[') end++;
                key = path.substring(i + 1, end);
                i = end;
            } else {
                int end = path.indexOf(']', i);
                String inner = path.substring(i + 1, end).trim();
                key = inner.startsWith("'") ? inner.substring(1, inner.length() - 1) : (Object) Integer.valueOf(inner);
                i = end + 1;
            }
            if (key instanceof String && current instanceof Map && ((Map<String, Object>) current).containsKey(key)) {
                current = ((Map<String, Object>) current).get(key);
            } else if (key instanceof Integer && current instanceof List && (Integer) key < ((List<Object>) current).size()) {
                current = ((List<Object>) current).get((Integer) key);
            } else {
                return MISSING;
            }
        }
        return current;
    }

    /// A JSON array as API Gateway hands it to templates: it renders as JSON
    /// (LocalStack's aws-validated test_input_path_template_formatting).
    public static class JsonList extends ArrayList<Object> {
        public String toString() {
            StringBuilder out = new StringBuilder();
            Json.write(this, out);
            return out.toString();
        }
    }

    /// A small JSON reader and writer: objects keep their order (LinkedHashMap), integers
    /// are Integer or Long, other numbers Double.
    static class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object value() {
            Object v = parse();
            skip();
            if (i != s.length()) throw new IllegalArgumentException("trailing text at " + i);
            return v;
        }

        private void skip() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        private Object parse() {
            skip();
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> map = new LinkedHashMap<String, Object>();
                i++;
                skip();
                if (s.charAt(i) == '}') { i++; return map; }
                while (true) {
                    skip();
                    String key = (String) parse();
                    skip();
                    i++; // ':'
                    map.put(key, parse());
                    skip();
                    if (s.charAt(i++) == '}') return map;
                }
            }
            if (c == '[') {
                List<Object> list = new JsonList();
                i++;
                skip();
                if (s.charAt(i) == ']') { i++; return list; }
                while (true) {
                    list.add(parse());
                    skip();
                    if (s.charAt(i++) == ']') return list;
                }
            }
            if (c == '"') {
                StringBuilder out = new StringBuilder();
                i++;
                while (s.charAt(i) != '"') {
                    char d = s.charAt(i++);
                    if (d == '\\') {
                        char e = s.charAt(i++);
                        switch (e) {
                            case 'n': out.append('\n'); break;
                            case 't': out.append('\t'); break;
                            case 'r': out.append('\r'); break;
                            case 'b': out.append('\b'); break;
                            case 'f': out.append('\f'); break;
                            case 'u': out.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; break;
                            default: out.append(e);
                        }
                    } else {
                        out.append(d);
                    }
                }
                i++;
                return out.toString();
            }
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            String number = s.substring(start, i);
            if (number.matches("-?[0-9]+")) {
                long l = Long.parseLong(number);
                return l == (int) l ? (Object) Integer.valueOf((int) l) : (Object) Long.valueOf(l);
            }
            return Double.valueOf(number);
        }

        @SuppressWarnings("unchecked")
        static void write(Object v, StringBuilder out) {
            if (v == null) {
                out.append("null");
            } else if (v instanceof String) {
                out.append('"');
                for (char c : ((String) v).toCharArray()) {
                    switch (c) {
                        case '"': out.append("\\\""); break;
                        case '\\': out.append("\\\\"); break;
                        case '\n': out.append("\\n"); break;
                        case '\r': out.append("\\r"); break;
                        case '\t': out.append("\\t"); break;
                        case '\b': out.append("\\b"); break;
                        case '\f': out.append("\\f"); break;
                        default:
                            if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                            else out.append(c);
                    }
                }
                out.append('"');
            } else if (v instanceof Map) {
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, Object> e : ((Map<String, Object>) v).entrySet()) {
                    if (!first) out.append(',');
                    first = false;
                    write(e.getKey(), out);
                    out.append(':');
                    write(e.getValue(), out);
                }
                out.append('}');
            } else if (v instanceof List) {
                out.append('[');
                boolean first = true;
                for (Object item : (List<Object>) v) {
                    if (!first) out.append(',');
                    first = false;
                    write(item, out);
                }
                out.append(']');
            } else {
                out.append(v.toString());
            }
        }
    }
}
